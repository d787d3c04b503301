-- one row: one line of a text file (as read into numbered lines, whatever its line endings),
-- split into comma-separated fields
with cleaned as (
    select line_number, line from read_parquet($path::varchar)
),

split as (
    select
        line_number,
        line,
        trim(line) = '' as is_blank,
        -- A line without quotes splits on commas; only a quoted one needs the pattern.
        case
            when contains(line, '"')
                then regexp_extract_all(',' || line, ',("(?:[^"]|"")*"|[^,"]*)', 1)
            else string_split(line, ',')
        end as raw_fields
    from cleaned
),

final as (
    select
        line_number,
        line,
        is_blank,
        -- Every character must belong to a field or a separator, else a quote is unmatched.
        list_sum(list_transform(raw_fields, lambda f: length(f) + 1)) - 1 = length(line)
            as is_well_quoted,
        list_transform(
            raw_fields,
            lambda f: case
                when length(f) >= 2 and starts_with(f, '"') and ends_with(f, '"')
                    then replace(f[2:-2], '""', '"')
                else f
            end
        ) as fields,
        null::varchar as line_problem
    from split
)

select * from final
order by line_number
