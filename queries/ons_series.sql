-- one row: a police force area's (or England and Wales') count of a series' offences over one published year
select
    area_code,
    area_name,
    area_kind,
    period_end,
    max(value) filter (where measure = 'count') as count_offences,
    max(marker) filter (where measure = 'count') as count_marker,
    max(value) filter (where measure = 'pct_involving_knife') as pct_involving_knife
from read_parquet($figures_path::varchar)
where
    geography = 'pfa'
    and area_kind in ('force', 'england_and_wales')
    and offence_group = $offence_group::varchar
group by all
order by area_name, period_end
