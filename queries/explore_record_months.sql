-- one row: the records of the chosen measures or crime types in one value of the breakdown and one month
with chosen as (
    select
        r.month_start,
        case $dimension::varchar
            when 'district' then coalesce(d.district_name, r.district_code)
            when 'lpa' then coalesce(d.lpa, $missing_label::varchar)
            when 'crime_type' then r.crime_type
            when 'outcome' then coalesce(r.outcome, $missing_label::varchar)
            when 'lsoa' then coalesce(r.lsoa_code, $missing_label::varchar)
            when 'record_kind' then r.record_kind
        end as dimension_value
    from records as r
    left join districts as d on r.district_code = d.district_code
    where
        list_contains($months::varchar[], r.month)
        and ($force::varchar is null or r.force = $force::varchar)
        and (
            $district_codes::varchar[] is null
            or list_contains($district_codes::varchar[], r.district_code)
        )
        and (
            $drill_crime_type::varchar is null or r.crime_type = $drill_crime_type::varchar
        )
        and (
            $drill_outcome::varchar is null
            or coalesce(r.outcome, $missing_label::varchar) = $drill_outcome::varchar
        )
        and (
            $drill_lsoa::varchar is null
            or coalesce(r.lsoa_code, $missing_label::varchar) = $drill_lsoa::varchar
        )
        and (
            $drill_record_kind::varchar is null or r.record_kind = $drill_record_kind::varchar
        )
        and (
            $crime_types::varchar[] is null
            or list_contains($crime_types::varchar[], r.crime_type)
        )
        -- A record counts once however many of the chosen measures count it.
        and (
            $measure_ids::varchar[] is null
            or exists (
                select 1
                from record_measures as rm
                where
                    list_contains($measure_ids::varchar[], rm.measure_id)
                    and list_contains($months::varchar[], rm.month)
                    and rm.force = r.force
                    and rm.record_id = r.record_id
            )
        )
),

final as (
    select
        dimension_value,
        month_start,
        count(*)::bigint as count_records
    from chosen
    group by all
)

select * from final
order by dimension_value, month_start
