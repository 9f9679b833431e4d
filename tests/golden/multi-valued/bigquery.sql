WITH series AS (
  SELECT
    dicom_all.SeriesInstanceUID AS `SeriesInstanceUID`,
    STRING_AGG(DISTINCT dicom_all.TransferSyntaxUID, ','
    ORDER BY
      dicom_all.TransferSyntaxUID) AS `TransferSyntaxUID`,
    STRING_AGG(
      DISTINCT dicom_all.PhotometricInterpretation, ','
      ORDER BY
        dicom_all.PhotometricInterpretation
    ) AS `PhotometricInterpretation`,
    ANY_VALUE(dicom_all.collection_id) AS `collection_id`,
    ANY_VALUE(dicom_all.PatientID) AS `PatientID`,
    ANY_VALUE(dicom_all.StudyInstanceUID) AS `StudyInstanceUID`,
    SUM(SAFE_CAST(dicom_all.instance_size AS FLOAT64)) / 1000000.0 AS `series_size_MB`,
    ANY_VALUE(dicom_all.aws_bucket) AS `aws_bucket`,
    ANY_VALUE(dicom_all.crdc_series_uuid) AS `crdc_series_uuid`,
    ANY_VALUE(dicom_all.Modality) AS `Modality`,
    COUNT(dicom_all.SOPInstanceUID) AS `instanceCount`,
    LOGICAL_OR(dicom_all.TransferSyntaxUID IN UNNEST(@p0)) AS _match0,
    LOGICAL_OR(
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
      END <> @p1
      AND CASE dicom_all.TransferSyntaxUID
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
      END LIKE @p2
    ) AS _match1,
    LOGICAL_OR(dicom_all.PhotometricInterpretation = @p3) AS _match2,
    LOGICAL_OR(SAFE_CAST(dicom_all.PixelRepresentation AS STRING) = @p4) AS _match3,
    LOGICAL_OR(REGEXP_CONTAINS(dicom_all.PhotometricInterpretation, @p5)) AS _match4,
    LOGICAL_OR(NOT dicom_all.TransferSyntaxUID IN UNNEST(@p6)) AS _match5
  FROM `bigquery-public-data`.`idc_current`.`dicom_all` AS dicom_all
  GROUP BY
    dicom_all.SeriesInstanceUID
)
SELECT
  `SeriesInstanceUID`,
  `TransferSyntaxUID`,
  `PhotometricInterpretation`,
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
  series._match0
  AND series._match1
  AND NOT (
    series.PhotometricInterpretation IS NULL
  )
  AND series._match2
  AND NOT COALESCE(series._match3, FALSE)
  AND (
    series._match4 OR series._match5
  )
ORDER BY
  `collection_id` ASC NULLS LAST,
  `PatientID` ASC NULLS LAST,
  `StudyInstanceUID` ASC NULLS LAST,
  `SeriesInstanceUID` ASC NULLS LAST
