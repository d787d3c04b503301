-- one row: one measure's count in one district or Local Policing Area and one month
with counts as (
    select
        mm.month_start,
        case $dimension::varchar
            when 'district' then coalesce(d.district_name, mm.district_code)
            when 'lpa' then coalesce(d.lpa, $missing_label::varchar)
        end as dimension_value,
        mm.count_records
    from measure_monthly as mm
    left join districts as d on mm.district_code = d.district_code
    where
        mm.measure_id = $measure_id::varchar
        and list_contains($month_starts::date[], mm.month_start)
        and ($force::varchar is null or mm.force = $force::varchar)
        and (
            $district_codes::varchar[] is null
            or list_contains($district_codes::varchar[], mm.district_code)
        )
),

final as (
    select
        dimension_value,
        month_start,
        sum(count_records)::bigint as count_records
    from counts
    group by all
)

select * from final
order by dimension_value, month_start
