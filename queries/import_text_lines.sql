-- one row: one line of a text file (bar the empty end after a last line break), split into
-- comma-separated fields
with content as (
    select content from read_text($path::varchar)
),

numbered as (
    select
        unnest(string_split(content, chr(10))) as raw_line,
        generate_subscripts(string_split(content, chr(10)), 1) as line_number
    from content
),

cleaned as (
    select
        line_number::bigint as line_number,
        regexp_replace(
            case when line_number = 1 then ltrim(raw_line, chr(65279)) else raw_line end,
            '\r$',
            ''
        ) as line
    from numbered
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
    where line <> '' or line_number < (select max(line_number) from cleaned)
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
        ) as fields
    from split
)

select * from final
order by line_number
