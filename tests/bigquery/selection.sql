-- Whole patients of the local IDC v25 index (idc_index.parquet) chosen for the BigQuery fixture.
-- A patient is eligible when none of its series has more than $instance_cap instances (so the
-- fixture can hold every instance of every series) and it has at most $max_series_per_patient
-- series. In each collection, patients are taken in order of interest (how many relations worth
-- testing they show), then of a fixed pseudo-random draw, until the collection has
-- $series_per_collection series or more.
WITH series AS (
  SELECT * FROM read_parquet($index_path)
),
studies AS (
  SELECT
    collection_id, PatientID, StudyInstanceUID,
    bool_or(Modality IN ('CT', 'MR', 'PT')) AS has_image,
    bool_or(Modality = 'SEG') AS has_seg,
    bool_or(Modality IN ('RTSTRUCT', 'SR')) AS has_annotation,
    bool_or(contains(coalesce(PhotometricInterpretation, '') || coalesce(PixelRepresentation, ''), ','))
      AS mixed_pixels
  FROM series
  GROUP BY ALL
),
relations AS (
  SELECT
    collection_id, PatientID,
    bool_or(has_image AND has_seg) AS seg_beside_image,
    bool_or(has_image AND has_annotation) AS annotation_beside_image,
    bool_or(has_image) AS has_image,
    bool_or(mixed_pixels) AS mixed_pixels
  FROM studies
  GROUP BY ALL
),
patients AS (
  SELECT
    collection_id, PatientID,
    count(*) AS n_series,
    max(instanceCount) AS max_instances,
    count(DISTINCT StudyInstanceUID) AS n_studies,
    bool_or(analysis_result_id IS NOT NULL) AS has_analysis_result,
    md5(collection_id || '/' || PatientID) AS draw
  FROM series
  GROUP BY ALL
),
eligible AS (
  SELECT
    collection_id, PatientID, p.n_series, p.draw,
    r.seg_beside_image::INT + r.annotation_beside_image::INT + r.has_image::INT
      + r.mixed_pixels::INT + (p.n_studies > 1)::INT + p.has_analysis_result::INT
      AS interest
  FROM patients AS p
  JOIN relations AS r USING (collection_id, PatientID)
  WHERE p.max_instances <= $instance_cap AND p.n_series <= $max_series_per_patient
),
ranked AS (
  SELECT
    collection_id, PatientID,
    coalesce(sum(n_series) OVER (
      PARTITION BY collection_id ORDER BY interest DESC, draw
      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ), 0) AS series_before
  FROM eligible
)
SELECT series.*
FROM series
JOIN ranked USING (collection_id, PatientID)
WHERE ranked.series_before < $series_per_collection
ORDER BY collection_id, PatientID, StudyInstanceUID, SeriesInstanceUID
