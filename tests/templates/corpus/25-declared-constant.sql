-- expect: ok
DECLARE min_size FLOAT64 DEFAULT 100;
SELECT SeriesInstanceUID, series_size_MB FROM idc_index WHERE series_size_MB > min_size
