-- expect: ok
SELECT DISTINCT SeriesInstanceUID FROM `canceridc-data.idc_v4.dicom_all` WHERE Modality = "MR"
