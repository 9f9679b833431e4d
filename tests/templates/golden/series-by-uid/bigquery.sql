WITH idc_index__aux_series AS (
  SELECT
    SeriesInstanceUID,
    MIN(series_init_idc_version) AS series_init_idc_version,
    MAX(series_revised_idc_version) AS series_revised_idc_version
  FROM `bigquery-public-data`.`idc_current`.`auxiliary_metadata`
  GROUP BY
    SeriesInstanceUID
), idc_index AS (
  SELECT
    ANY_VALUE(dicom_all.collection_id) AS collection_id,
    ANY_VALUE(dicom_all.analysis_result_id) AS analysis_result_id,
    ANY_VALUE(dicom_all.PatientID) AS PatientID,
    dicom_all.SeriesInstanceUID,
    ANY_VALUE(dicom_all.StudyInstanceUID) AS StudyInstanceUID,
    ANY_VALUE(dicom_all.source_DOI) AS source_DOI,
    ANY_VALUE(NULLIF(PatientAge, '')) AS PatientAge,
    ANY_VALUE(PatientSex) AS PatientSex,
    ANY_VALUE(SAFE_CAST(StudyDate AS STRING)) AS StudyDate,
    ANY_VALUE(StudyDescription) AS StudyDescription,
    ANY_VALUE(dicom_curated.BodyPartExamined) AS BodyPartExamined,
    ANY_VALUE(Modality) AS Modality,
    ANY_VALUE(SOPClassUID) AS SOPClassUID,
    ANY_VALUE(
      CASE SOPClassUID
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
        ELSE NULL
      END
    ) AS sop_class_name,
    STRING_AGG(DISTINCT TransferSyntaxUID, ','
    ORDER BY
      TransferSyntaxUID) AS TransferSyntaxUID,
    STRING_AGG(
      
        DISTINCT CASE TransferSyntaxUID
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
          ELSE NULL
        END,
        ','
      
      ORDER BY
        CASE TransferSyntaxUID
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
          ELSE NULL
        END
    ) AS transfer_syntax_name,
    STRING_AGG(DISTINCT PhotometricInterpretation, ','
    ORDER BY
      PhotometricInterpretation) AS PhotometricInterpretation,
    STRING_AGG(
      DISTINCT CAST(PixelRepresentation AS STRING), ','
      ORDER BY
        CAST(PixelRepresentation AS STRING)
    ) AS PixelRepresentation,
    ANY_VALUE(Manufacturer) AS Manufacturer,
    ANY_VALUE(ManufacturerModelName) AS ManufacturerModelName,
    ANY_VALUE(SAFE_CAST(SeriesDate AS STRING)) AS SeriesDate,
    ANY_VALUE(NULLIF(SeriesDescription, '')) AS SeriesDescription,
    ANY_VALUE(SeriesNumber) AS SeriesNumber,
    COUNT(dicom_all.SOPInstanceUID) AS instanceCount,
    ANY_VALUE(dicom_all.license_short_name) AS license_short_name,
    ANY_VALUE(aux.series_init_idc_version) AS series_init_idc_version,
    ANY_VALUE(aux.series_revised_idc_version) AS series_revised_idc_version,
    ANY_VALUE(dicom_all.aws_bucket) AS aws_bucket,
    ANY_VALUE(dicom_all.crdc_series_uuid) AS crdc_series_uuid,
    ANY_VALUE(CONCAT(dicom_all.series_aws_url, '*')) AS series_aws_url,
    SUM(SAFE_CAST(dicom_all.instance_size AS FLOAT64)) / 1000000. AS series_size_MB
  FROM `bigquery-public-data`.`idc_current`.`dicom_all` AS dicom_all
  LEFT JOIN `bigquery-public-data`.`idc_current`.`dicom_metadata_curated` AS dicom_curated
    ON dicom_all.SOPInstanceUID = dicom_curated.SOPInstanceUID
  LEFT JOIN idc_index__aux_series AS aux
    ON dicom_all.SeriesInstanceUID = aux.SeriesInstanceUID
  GROUP BY
    dicom_all.SeriesInstanceUID
)
SELECT
  collection_id,
  PatientID,
  StudyInstanceUID,
  SeriesInstanceUID,
  Modality,
  instanceCount,
  series_size_MB,
  aws_bucket,
  crdc_series_uuid
FROM idc_index
WHERE
  SeriesInstanceUID IN UNNEST(@uids)
ORDER BY
  collection_id,
  PatientID,
  StudyInstanceUID,
  SeriesInstanceUID
-- parameters: {"uids": ["1.3.6.1.4.1.14519.5.2.1.6279.6001.100225287222365663678666836860"]}
