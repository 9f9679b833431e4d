WITH patients AS (
  SELECT
    PatientID,
    ANY_VALUE(PatientSex) AS sex,
    MIN(
      CASE
        WHEN ENDS_WITH(PatientAge, 'Y')
        THEN TRY_CAST(RTRIM(PatientAge, 'Y') AS BIGINT)
        WHEN REGEXP_MATCHES(PatientAge, '^[0-9]+[MWD]$')
        THEN 0
      END
    ) AS age_years
  FROM idc_index
  WHERE
    collection_id = CAST($collection_id AS TEXT)
  GROUP BY
    PatientID
)
SELECT
  sex,
  CAST(age_years // 10 * 10 AS TEXT) AS age_decade,
  COUNT(*) AS patients
FROM patients
GROUP BY
  sex,
  age_decade
ORDER BY
  sex NULLS FIRST,
  age_decade NULLS FIRST
-- parameters: {"collection_id": "nlst"}
