-- one row: a force whose records the data holds, with how many records it holds
select
    force,
    sum(count_records)::bigint as count_records
from crime_type_monthly
group by force
order by force
