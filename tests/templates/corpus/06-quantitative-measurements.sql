-- expect: ok
SELECT PatientID, Quantity.CodeMeaning AS quantity, Value AS value, Units.CodeMeaning AS units
FROM `bigquery-public-data.idc_current.quantitative_measurements`
WHERE Quantity.CodeMeaning = 'Volume' AND trackingIdentifier LIKE @tracking
