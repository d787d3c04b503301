-- one row: one data line (or row) of a force's record extract, as a record or with the reason
-- it is set aside
with lines as (
    select
        f.file_index,
        f.source_file,
        f.unit,
        f.width,
        f.header_fields,
        f.positions,
        l.line_number,
        l.line,
        l.is_well_quoted,
        l.line_problem,
        l.fields,
        len(l.fields) as count_fields
    from records_lines as l
    inner join records_files as f on l.file_index = f.file_index
    where not l.is_blank and l.line_number > f.header_line_number
),

fields as (
    select
        *,
        coalesce(trim(fields[positions[1]]), '') as record_id,
        coalesce(trim(fields[positions[2]]), '') as month_text,
        coalesce(trim(fields[positions[3]]), '') as district_text,
        coalesce(trim(fields[positions[4]]), '') as crime_type_text,
        coalesce(trim(fields[positions[5]]), $record_kind::varchar) as record_kind_text,
        coalesce(trim(fields[positions[6]]), '') as outcome_text,
        nullif(trim(fields[positions[7]]), '') as lsoa_code,
        coalesce(trim(fields[positions[8]]), '') as latitude_text,
        coalesce(trim(fields[positions[9]]), '') as longitude_text,
        list_transform(
            range(10, 16), lambda p: coalesce(trim(fields[positions[p]]), '')
        ) as flag_texts,
        list_transform(fields, lambda v: lower(trim(v))) as normalised
    from lines
),

looked_up as (
    select
        *,
        ($district_to::varchar[])[
            list_position($district_from::varchar[], lower(district_text))
        ] as mapped_district,
        ($crime_type_to::varchar[])[
            list_position($crime_type_from::varchar[], lower(crime_type_text))
        ] as mapped_crime_type,
        ($record_kind_to::varchar[])[
            list_position($record_kind_from::varchar[], lower(record_kind_text))
        ] as mapped_record_kind,
        ($outcome_to::varchar[])[
            list_position($outcome_from::varchar[], lower(outcome_text))
        ] as mapped_outcome,
        list_transform(
            flag_texts,
            lambda t, i: case
                when t = '' then false
                when list_contains(($flag_true::varchar[][])[i], lower(t)) then true
                when list_contains(($flag_false::varchar[][])[i], lower(t)) then false
            end
        ) as flag_values,
        coalesce(
            date_trunc('month', try_strptime(month_text, $month_format::varchar))::date,
            case
                when regexp_full_match(month_text, '[0-9][0-9][0-9][0-9]-[0-9][0-9]')
                    then try_cast(month_text || '-01' as date)
            end,
            case
                when regexp_full_match(month_text, '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]([ T][0-9:.]+)?')
                    then date_trunc('month', try_cast(month_text as timestamp))::date
            end
        ) as month_start,
        try_cast(nullif(latitude_text, '') as double) as latitude,
        try_cast(nullif(longitude_text, '') as double) as longitude
    from fields
),

flagged as (
    select
        *,
        list_filter(range(1, 7), lambda i: flag_values[i] is null)[1] as bad_flag
    from looked_up
),

checked as (
    select
        *,
        case
            when line_problem is not null then line_problem
            when normalised = header_fields then 'a second header line inside the file'
            when not is_well_quoted then 'an unmatched double quote'
            when count_fields <> width
                then 'wrong number of fields: ' || count_fields || ' where ' || width
                || ' are expected'
            when contains(line, chr(65533)) then $not_utf8_reason::varchar
            when record_id = '' then 'no record id'
            when month_text = '' then 'no month'
            when month_start is null
                then 'unparseable month ''' || month_text || ''' (expected ' || $month_expected::varchar
                || ')'
            when month_start > current_date
                then 'month ' || strftime(month_start, '%Y-%m') || ' is in the future'
            when record_kind_text = '' then 'no record kind'
            when mapped_record_kind is null
                then 'unknown record kind ''' || record_kind_text || ''''
            when crime_type_text = '' then 'no crime type'
            when mapped_crime_type is null
                then 'unknown crime type ''' || crime_type_text || ''''
            when district_text <> '' and mapped_district is null
                then 'unknown district ''' || district_text || ''''
            when outcome_text <> '' and mapped_outcome is null
                then 'unknown outcome ''' || outcome_text || ''''
            when bad_flag is not null
                then 'flag ' || ($flag_names::varchar[])[bad_flag] || ' has value '''
                || flag_texts[bad_flag] || ''''
            when (longitude_text = '') <> (latitude_text = '')
                then 'only one of longitude and latitude is given'
            when (longitude_text <> '' and longitude is null)
                or (latitude_text <> '' and latitude is null)
                then 'coordinates are not numbers'
            when latitude not between $latitude_min::double and $latitude_max::double
                or longitude not between $longitude_min::double and $longitude_max::double
                then 'coordinates outside the UK (' || latitude_text || ', ' || longitude_text || ')'
        end as problem
    from flagged
),

ranked as (
    select
        *,
        case
            when problem is null
                then row_number() over (
                    partition by problem is null, record_id order by file_index, line_number
                )
            else 1
        end as occurrence,
        first(source_file || ' ' || unit || ' ' || line_number) over (
            partition by problem is null, record_id order by file_index, line_number
        ) as first_seen
    from checked
),

final as (
    select
        file_index,
        source_file,
        line_number,
        line,
        coalesce(
            problem,
            case
                when occurrence > 1
                    then 'duplicate record id ''' || record_id || ''' (first seen in '
                    || first_seen || ')'
            end
        ) as reason,
        record_id,
        $force::varchar as force,
        case when problem is null then month_start end as month_start,
        mapped_record_kind as record_kind,
        coalesce(mapped_district, 'X-NOLOC') as district_code,
        mapped_crime_type as crime_type,
        coalesce(flag_values[1], false) as is_knife_enabled,
        coalesce(flag_values[2], false) as is_domestic_abuse,
        coalesce(flag_values[3], false) as is_hate_crime,
        coalesce(flag_values[4], false) as is_night_time_economy,
        coalesce(flag_values[5], false) as is_online,
        coalesce(flag_values[6], false) as is_child_sexual_abuse,
        lsoa_code,
        latitude,
        longitude,
        mapped_outcome as outcome
    from ranked
)

select * from final
order by file_index, line_number
