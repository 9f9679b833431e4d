-- expect: ok
SELECT PatientID, Quantity.CodeMeaning AS finding, Value.CodeMeaning AS value
FROM `bigquery-public-data.idc_v25.qualitative_measurements`
LIMIT 100
