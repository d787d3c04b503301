-- one row: an offence group the police force area tables give rates for, in the order published
select
    offence_group,
    min(file_row_number) as first_seen
from read_parquet($figures_path::varchar, file_row_number = true)
where
    geography = 'pfa'
    and measure = 'rate_per_1000'
    and period_end = $period_end::date
    and offence_group is not null
group by offence_group
order by first_seen
