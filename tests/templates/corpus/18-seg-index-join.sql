-- expect: ok
SELECT i.collection_id, s.SeriesInstanceUID, s.AlgorithmType, src.Modality AS source_modality
FROM seg_index AS s
JOIN idc_index AS i ON i.SeriesInstanceUID = s.SeriesInstanceUID
JOIN idc_index AS src ON src.SeriesInstanceUID = s.segmented_SeriesInstanceUID
