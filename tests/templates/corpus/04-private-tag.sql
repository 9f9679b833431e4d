-- expect: ok
# private tags are kept as OtherElements in dicom_all
SELECT SOPInstanceUID, other.Tag AS tag, other.Data AS data
FROM `bigquery-public-data.idc_current.dicom_all`, UNNEST(OtherElements) AS other
WHERE other.Tag = 'Tag_00191008' AND collection_id = @collection
