-- one row: a square cell of the map and how many of one measure's records fall in it (cells under the minimum left out)
with counted as (
    select
        floor(r.latitude / $cell_degrees::double) as cell_y,
        floor(r.longitude / $cell_degrees::double) as cell_x,
        count(*)::bigint as count_records
    from record_measures as r
    where
        r.measure_id = $measure_id::varchar
        and list_contains($months::varchar[], r.month)
        and r.latitude is not null
        and r.longitude is not null
        and ($force::varchar is null or r.force = $force::varchar)
        and (
            $district_codes::varchar[] is null
            or list_contains($district_codes::varchar[], r.district_code)
        )
    group by all
),

final as (
    select
        (cell_y + 0.5) * $cell_degrees::double as latitude,
        (cell_x + 0.5) * $cell_degrees::double as longitude,
        count_records
    from counted
    where count_records >= $min_count::bigint
)

select * from final
order by count_records desc, latitude, longitude
