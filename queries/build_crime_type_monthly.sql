-- one row: the records of one crime type and kind in one district and month
select
    force,
    district_code,
    month_start,
    record_kind,
    crime_type,
    count(*)::bigint as count_records
from records
where $months::varchar[] is null or list_contains($months::varchar[], month)
group by all
order by all
