-- one row: how a month format from a records mapping writes a sample date (an error if DuckDB
-- cannot use the format)
select strftime(date '2022-09-30', $month_format::varchar) as sample_text
