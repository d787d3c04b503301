-- one row: the records one measure counts in one district and month
with final as (
    select
        force,
        measure_id,
        district_code,
        month_start,
        count(*)::bigint as count_records
    from record_measures
    where $months::varchar[] is null or list_contains($months::varchar[], month)
    group by all
)

select * from final
order by all
