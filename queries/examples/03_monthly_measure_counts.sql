-- one row: a measure's force-wide count in one month
-- title: Every measure, month by month
select
    m.measure_name,
    mm.month_start,
    sum(mm.count_records) as count_records
from measure_monthly as mm
inner join measures as m on mm.measure_id = m.measure_id
group by all
order by m.measure_name, mm.month_start
