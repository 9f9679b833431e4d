-- expect: refused: is not in one of IDC's datasets
SELECT * FROM `my-lab-project.cohorts.lung_ct`
