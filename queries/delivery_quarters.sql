-- one row: a reporting quarter for which the delivery plan records a status
select distinct quarter_end
from delivery_status
order by quarter_end
