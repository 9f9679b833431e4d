-- expect: refused: INSERT changes data
INSERT INTO `my-project.lab.cohort` SELECT * FROM idc_index
