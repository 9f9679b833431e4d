-- expect: ok
SELECT SeriesInstanceUID FROM idc_index AS ct
WHERE ct.Modality = 'CT' AND EXISTS (
  SELECT 1 FROM idc_index AS seg
  WHERE seg.StudyInstanceUID = ct.StudyInstanceUID AND seg.Modality = 'SEG')
