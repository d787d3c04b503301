-- one row: one data line of a data.police.uk street-level file, as a record or with the reason
-- it is set aside
with lines as (
    select
        f.file_index,
        f.source_file,
        f.file_name,
        f.file_month,
        f.header_problem,
        l.line_number,
        l.line,
        l.is_well_quoted,
        len(l.fields) as count_fields,
        l.fields,
        f.positions
    from police_uk_lines as l
    inner join police_uk_files as f on l.file_index = f.file_index
    where not l.is_blank and l.line_number > f.header_line_number
),

fields as (
    select
        *,
        trim(fields[positions[1]]) as crime_id,
        trim(fields[positions[2]]) as month,
        trim(fields[positions[3]]) as reported_by,
        trim(fields[positions[5]]) as longitude_text,
        trim(fields[positions[6]]) as latitude_text,
        trim(fields[positions[8]]) as lsoa_code,
        trim(fields[positions[9]]) as lsoa_name,
        trim(fields[positions[10]]) as crime_type,
        nullif(trim(fields[positions[11]]), '') as outcome,
        -- Only a line that could be a header is normalised to compare with the header.
        case
            when lower(line) like '%crime%id%'
                then list_transform(fields, lambda v: lower(replace(trim(v), ' ', '_')))
        end as normalised,
        case
            when not $use_lookup::boolean
                then lower(regexp_extract(trim(fields[positions[9]]), '^(.*) [0-9]{3}[A-Z]$', 1))
        end as lsoa_place
    from lines
),

typed as (
    select
        *,
        try_cast(nullif(longitude_text, '') as double) as longitude,
        try_cast(nullif(latitude_text, '') as double) as latitude,
        coalesce(nullif(reported_by, ''), $force::varchar) as force,
        -- A crime is known by its Crime ID; an anti-social behaviour row, which has none, by
        -- its month, its text and its line number: the same file read twice (from a folder
        -- and from a zip) gives the same ids, and two identical rows in one file do not.
        case
            when crime_id <> '' then crime_id
            else 'asb-' || month || '-' || md5(line || chr(31) || line_number::varchar)[1:16]
        end as record_id
    from fields
),

checked as (
    select
        *,
        case
            when header_problem is not null then header_problem
            when normalised = $header::varchar[] then 'a second header line inside the file'
            when not is_well_quoted then 'an unmatched double quote'
            when count_fields <> 12
                then 'wrong number of fields: ' || count_fields || ' where 12 are expected'
            when contains(line, chr(65533)) then $not_utf8_reason::varchar
            when not regexp_full_match(month, '[0-9]{4}-(0[1-9]|1[0-2])')
                then 'unparseable month ''' || month || ''' (expected YYYY-MM)'
            when file_month is not null and month <> file_month
                then 'month ' || month || ' does not match the file name (' || file_month || ')'
            when force is null then 'no force named in Reported by; give --force'
            when $force::varchar is not null and reported_by <> '' and reported_by <> $force::varchar
                then 'reported by ''' || reported_by || ''', not ' || $force::varchar
            when not list_contains($categories::varchar[], crime_type)
                then 'unknown category ''' || crime_type || ''''
            when crime_id = '' and crime_type <> 'Anti-social behaviour'
                then 'no Crime ID on a crime'
            when (longitude_text = '') <> (latitude_text = '')
                then 'only one of longitude and latitude is given'
            when (longitude_text <> '' and longitude is null)
                or (latitude_text <> '' and latitude is null)
                then 'coordinates are not numbers'
            when latitude not between $latitude_min::double and $latitude_max::double
                or longitude not between $longitude_min::double and $longitude_max::double
                then 'coordinates outside the UK (' || latitude_text || ', ' || longitude_text || ')'
        end as problem
    from typed
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
        first(source_file || ' line ' || line_number) over (
            partition by problem is null, record_id order by file_index, line_number
        ) as first_seen
    from checked
),

placed as (
    select
        r.*,
        coalesce(
            case
                when r.lsoa_code = '' then 'X-NOLOC'
                when $use_lookup::boolean then d_lookup.district_code
                else d_name.district_code
            end,
            'X-OUTSIDE'
        ) as district_code
    from ranked as r
    left join lsoa_lookup as k on r.lsoa_code = k.lsoa_code
    left join districts as d_lookup
        on d_lookup.is_force_district and k.lad_code = d_lookup.district_code
    left join districts as d_name
        on r.lsoa_place = lower(d_name.district_name) and d_name.is_force_district
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
                when occurrence > 1 and crime_id <> ''
                    then 'duplicate Crime ID (first seen in ' || first_seen || ')'
                when occurrence > 1
                    then 'the same anti-social behaviour row was already read from ' || first_seen
            end
        ) as reason,
        record_id,
        force,
        case when problem is null then (month || '-01')::date end as month_start,
        case when crime_type = 'Anti-social behaviour' then 'asb' else 'crime' end as record_kind,
        district_code,
        crime_type,
        nullif(lsoa_code, '') as lsoa_code,
        latitude,
        longitude,
        outcome
    from placed
)

select * from final
order by file_index, line_number
