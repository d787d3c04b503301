-- one row: a district's knife-enabled crimes in the 12 months to September 2022 and the 12 before
-- title: Knife crime by district, this year against last
with counts as (
    select
        d.district_name,
        sum(mm.count_records) filter (
            where mm.month_start between date '2021-10-01' and date '2022-09-01'
        ) as current_count,
        sum(mm.count_records) filter (
            where mm.month_start between date '2020-10-01' and date '2021-09-01'
        ) as previous_count
    from measure_monthly as mm
    inner join districts as d on mm.district_code = d.district_code
    where mm.measure_id = 'knife-crime'
    group by all
)

select
    district_name,
    current_count,
    previous_count,
    current_count - previous_count as diff,
    round(100.0 * (current_count - previous_count) / previous_count, 1) as pct_change
from counts
order by diff desc
