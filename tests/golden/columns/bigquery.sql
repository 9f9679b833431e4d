WITH series AS (
  SELECT
    dicom_all.SeriesInstanceUID AS `SeriesInstanceUID`,
    ANY_VALUE(
      CASE dicom_all.SOPClassUID
        WHEN '1.2.840.10008.5.1.4.1.1.1'
        THEN 'Computed Radiography Image Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.1.1'
        THEN 'Digital X-Ray Image Storage - For Presentation'
        WHEN '1.2.840.10008.5.1.4.1.1.1.1.1'
        THEN 'Digital X-Ray Image Storage - For Processing'
        WHEN '1.2.840.10008.5.1.4.1.1.1.2'
        THEN 'Digital Mammography X-Ray Image Storage - For Presentation'
        WHEN '1.2.840.10008.5.1.4.1.1.1.2.1'
        THEN 'Digital Mammography X-Ray Image Storage - For Processing'
        WHEN '1.2.840.10008.5.1.4.1.1.104.3'
        THEN 'Encapsulated STL Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.11.1'
        THEN 'Grayscale Softcopy Presentation State Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.11.8'
        THEN 'Advanced Blending Presentation State Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.12.1'
        THEN 'X-Ray Angiographic Image Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.12.2'
        THEN 'X-Ray Radiofluoroscopic Image Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.128'
        THEN 'Positron Emission Tomography Image Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.13.1.3'
        THEN 'Breast Tomosynthesis Image Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.13.1.4'
        THEN 'Breast Projection X-Ray Image Storage - For Presentation'
        WHEN '1.2.840.10008.5.1.4.1.1.13.1.5'
        THEN 'Breast Projection X-Ray Image Storage - For Processing'
        WHEN '1.2.840.10008.5.1.4.1.1.2'
        THEN 'CT Image Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.20'
        THEN 'Nuclear Medicine Image Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.3.1'
        THEN 'Ultrasound Multi-frame Image Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.30'
        THEN 'Parametric Map Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.4'
        THEN 'MR Image Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.481.2'
        THEN 'RT Dose Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.481.3'
        THEN 'RT Structure Set Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.481.5'
        THEN 'RT Plan Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.6.1'
        THEN 'Ultrasound Image Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.66'
        THEN 'Raw Data Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.66.1'
        THEN 'Spatial Registration Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.66.4'
        THEN 'Segmentation Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.66.7'
        THEN 'Label Map Segmentation Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.67'
        THEN 'Real World Value Mapping Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.7'
        THEN 'Secondary Capture Image Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.7.2'
        THEN 'Multi-frame Grayscale Byte Secondary Capture Image Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.77.1.6'
        THEN 'VL Whole Slide Microscopy Image Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.88.22'
        THEN 'Enhanced SR Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.88.33'
        THEN 'Comprehensive SR Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.88.34'
        THEN 'Comprehensive 3D SR Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.88.59'
        THEN 'Key Object Selection Document Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.88.67'
        THEN 'X-Ray Radiation Dose SR Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.88.71'
        THEN 'Acquisition Context SR Storage'
        WHEN '1.2.840.10008.5.1.4.1.1.91.1'
        THEN 'Microscopy Bulk Simple Annotations Storage'
      END
    ) AS `sop_class_name`,
    STRING_AGG(
      
        DISTINCT CASE dicom_all.TransferSyntaxUID
          WHEN '1.2.840.10008.1.2'
          THEN 'Implicit VR Little Endian'
          WHEN '1.2.840.10008.1.2.1'
          THEN 'Explicit VR Little Endian'
          WHEN '1.2.840.10008.1.2.1.99'
          THEN 'Deflated Explicit VR Little Endian'
          WHEN '1.2.840.10008.1.2.2'
          THEN 'Explicit VR Big Endian'
          WHEN '1.2.840.10008.1.2.4.50'
          THEN 'JPEG Baseline'
          WHEN '1.2.840.10008.1.2.4.51'
          THEN 'JPEG Extended'
          WHEN '1.2.840.10008.1.2.4.70'
          THEN 'JPEG Lossless'
          WHEN '1.2.840.10008.1.2.4.80'
          THEN 'JPEG-LS Lossless'
          WHEN '1.2.840.10008.1.2.4.90'
          THEN 'JPEG 2000 Lossless'
          WHEN '1.2.840.10008.1.2.4.91'
          THEN 'JPEG 2000'
        END,
        ','
      
      ORDER BY
        CASE dicom_all.TransferSyntaxUID
          WHEN '1.2.840.10008.1.2'
          THEN 'Implicit VR Little Endian'
          WHEN '1.2.840.10008.1.2.1'
          THEN 'Explicit VR Little Endian'
          WHEN '1.2.840.10008.1.2.1.99'
          THEN 'Deflated Explicit VR Little Endian'
          WHEN '1.2.840.10008.1.2.2'
          THEN 'Explicit VR Big Endian'
          WHEN '1.2.840.10008.1.2.4.50'
          THEN 'JPEG Baseline'
          WHEN '1.2.840.10008.1.2.4.51'
          THEN 'JPEG Extended'
          WHEN '1.2.840.10008.1.2.4.70'
          THEN 'JPEG Lossless'
          WHEN '1.2.840.10008.1.2.4.80'
          THEN 'JPEG-LS Lossless'
          WHEN '1.2.840.10008.1.2.4.90'
          THEN 'JPEG 2000 Lossless'
          WHEN '1.2.840.10008.1.2.4.91'
          THEN 'JPEG 2000'
        END
    ) AS `transfer_syntax_name`,
    STRING_AGG(
      DISTINCT SAFE_CAST(dicom_all.PixelRepresentation AS STRING), ','
      ORDER BY
        SAFE_CAST(dicom_all.PixelRepresentation AS STRING)
    ) AS `PixelRepresentation`,
    STRING_AGG(
      DISTINCT dicom_all.PhotometricInterpretation, ','
      ORDER BY
        dicom_all.PhotometricInterpretation
    ) AS `PhotometricInterpretation`,
    ANY_VALUE(CONCAT(dicom_all.series_aws_url, '*')) AS `series_aws_url`,
    ANY_VALUE(dicom_all.Source_DOI) AS `source_DOI`,
    MIN(SAFE_CAST(dicom_all.series_init_idc_version AS INT64)) AS `series_init_idc_version`,
    ANY_VALUE(dicom_all.collection_id) AS `collection_id`,
    ANY_VALUE(dicom_all.PatientID) AS `PatientID`,
    ANY_VALUE(dicom_all.StudyInstanceUID) AS `StudyInstanceUID`,
    SUM(SAFE_CAST(dicom_all.instance_size AS FLOAT64)) / 1000000.0 AS `series_size_MB`,
    ANY_VALUE(dicom_all.aws_bucket) AS `aws_bucket`,
    ANY_VALUE(dicom_all.crdc_series_uuid) AS `crdc_series_uuid`,
    ANY_VALUE(dicom_all.Modality) AS `Modality`,
    COUNT(dicom_all.SOPInstanceUID) AS `instanceCount`
  FROM `bigquery-public-data`.`idc_current`.`dicom_all` AS dicom_all
  WHERE
    dicom_all.collection_id = @p0
  GROUP BY
    dicom_all.SeriesInstanceUID
)
SELECT
  `SeriesInstanceUID`,
  `sop_class_name`,
  `transfer_syntax_name`,
  `PixelRepresentation`,
  `PhotometricInterpretation`,
  `series_aws_url`,
  `source_DOI`,
  `series_init_idc_version`,
  `collection_id`,
  `PatientID`,
  `StudyInstanceUID`,
  `series_size_MB`,
  `aws_bucket`,
  `crdc_series_uuid`,
  `Modality`,
  `instanceCount`
FROM series
WHERE
  series.collection_id = @p0
ORDER BY
  `collection_id` ASC NULLS LAST,
  `PatientID` ASC NULLS LAST,
  `StudyInstanceUID` ASC NULLS LAST,
  `SeriesInstanceUID` ASC NULLS LAST
