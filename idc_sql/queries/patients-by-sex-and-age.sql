-- name: patients-by-sex-and-age
-- description: Patients of a collection by sex and by decade of age at imaging (PatientAge,
--   e.g. 062Y; ages in months, weeks or days count as 0-9).
-- param collection_id STRING DEFAULT 'nlst': the collection
WITH patients AS (
  SELECT
    PatientID,
    ANY_VALUE(PatientSex) AS sex,
    MIN(
      CASE
        WHEN ENDS_WITH(PatientAge, 'Y') THEN SAFE_CAST(RTRIM(PatientAge, 'Y') AS INT64)
        WHEN REGEXP_CONTAINS(PatientAge, r'^[0-9]+[MWD]$') THEN 0
      END
    ) AS age_years
  FROM idc_index
  WHERE collection_id = @collection_id
  GROUP BY PatientID
)
SELECT
  sex,
  CAST(DIV(age_years, 10) * 10 AS STRING) AS age_decade,
  COUNT(*) AS patients
FROM patients
GROUP BY sex, age_decade
ORDER BY sex, age_decade
