-- expect: ok
SELECT SeriesInstanceUID, stain
FROM sm_index, UNNEST(staining_usingSubstance_CodeMeaning) AS stain
WHERE ObjectiveLensPower >= 20
