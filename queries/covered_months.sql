-- one row: a month the data covers, with how many records of any kind it holds
select
    month_start,
    sum(count_records)::bigint as count_records
from crime_type_monthly
where $force::varchar is null or force = $force::varchar
group by month_start
order by month_start
