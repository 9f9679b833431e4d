-- expect: ok
SELECT StudyInstanceUID FROM idc_index WHERE Modality = 'CT'
INTERSECT DISTINCT
SELECT StudyInstanceUID FROM idc_index WHERE Modality = 'SEG'
