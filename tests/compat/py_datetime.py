# Checks python datetime/calendar/time arithmetic on fixed dates (no wall clock), timezones with fixed offsets, and the current year is >= 2020.
import calendar
import datetime as dt
import time

d = dt.date(2024, 2, 28)
print(d + dt.timedelta(days=1), d + dt.timedelta(days=2), d.isoweekday(), d.strftime("%A %d %B %Y"))
print(dt.date(2023, 12, 31).isocalendar(), dt.date(2024, 1, 1).toordinal(), dt.date.fromordinal(738000))
a = dt.datetime(2021, 3, 14, 1, 59, 26, 535897)
b = dt.datetime(1999, 12, 31, 23, 59, 59)
print(a - b, (a - b).total_seconds(), (a - b).days)
print(a.isoformat(), a.strftime("%Y-%m-%dT%H:%M:%S.%f %j %U %w"), a.replace(year=2000).isoformat(timespec="seconds"))
print(dt.datetime.strptime("2022-07-04 13:45", "%Y-%m-%d %H:%M"), dt.datetime.fromisoformat("2020-02-29T12:00:00+05:30"))
utc = dt.timezone.utc
ist = dt.timezone(dt.timedelta(hours=5, minutes=30), "IST")
t = dt.datetime(2024, 6, 1, 12, 0, tzinfo=utc)
print(t.astimezone(ist), t.astimezone(ist).tzname(), t.timestamp(), dt.datetime.fromtimestamp(0, utc))
print(dt.datetime.fromtimestamp(1700000000, utc).isoformat(), dt.timedelta(days=-1, seconds=5), dt.timedelta(hours=36) // dt.timedelta(hours=5))
print(calendar.isleap(1900), calendar.isleap(2000), calendar.monthrange(2024, 2), calendar.weekday(2038, 1, 19))
print(calendar.TextCalendar(calendar.MONDAY).formatmonth(2024, 2))
print(calendar.timegm((2038, 1, 19, 3, 14, 8, 0, 0, 0)), time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(2**31 - 1)))
print("now year >= 2020:", dt.datetime.now(utc).year >= 2020, "time.time sane:", time.time() > 1577836800)
m0 = time.monotonic(); m1 = time.monotonic()
print("monotonic non-decreasing:", m1 >= m0, "perf_counter non-negative:", time.perf_counter() >= 0)
