//! `accord calendar eval` (a public contract, DESIGN 4) and `accord calendar show`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Deserialize;
use serde_json::{Value, json};

use accord_core::calendar::{Calendar, CalendarDoc, DateRule, calendar_from_yaml};

/// Reads `.ics` files named in a calendar, relative to `base`.
fn ics_reader(base: &Path) -> impl Fn(&str) -> Result<String, String> + '_ {
    move |path: &str| std::fs::read_to_string(base.join(path)).map_err(|e| e.to_string())
}

/// A calendar from its `eval` form: the string `24x7` or a calendar object.
fn calendar_from_value(value: &Value) -> Result<Calendar, String> {
    match value {
        Value::String(s) if s == "24x7" => Ok(Calendar::always_open()),
        Value::Object(_) => {
            let doc = CalendarDoc::deserialize(value).map_err(|e| e.to_string())?;
            doc.build(&ics_reader(Path::new(".")))
                .map_err(|e| e.to_string())
        }
        _ => Err("expected a calendar object or \"24x7\"".into()),
    }
}

/// An instant as `eval` writes it: in the calendar zone's offset, `Z` for UTC.
pub fn format_instant(calendar: &Calendar, t: Timestamp) -> String {
    if calendar.is_utc() {
        return t.to_string();
    }
    t.to_zoned(calendar.time_zone().clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// Built calendars by their JSON text, so a stream of cases on one calendar builds it
/// once. Bounded: cleared when it grows past this many.
const CALENDAR_CACHE: usize = 1024;

struct Evaluator {
    calendars: HashMap<String, Result<Arc<Calendar>, String>>,
}

impl Evaluator {
    fn calendar(&mut self, value: &Value) -> Result<Arc<Calendar>, String> {
        let key = value.to_string();
        if let Some(found) = self.calendars.get(&key) {
            return found.clone();
        }
        if self.calendars.len() >= CALENDAR_CACHE {
            self.calendars.clear();
        }
        let built = calendar_from_value(value)
            .map(Arc::new)
            .map_err(|e| format!("calendar: {e}"));
        self.calendars.insert(key, built.clone());
        built
    }

    fn case(&mut self, line: &str) -> Value {
        match self.try_case(line) {
            Ok(v) => v,
            Err(e) => json!({ "error": e }),
        }
    }

    fn try_case(&mut self, line: &str) -> Result<Value, String> {
        let case: Value = serde_json::from_str(line).map_err(|e| format!("not valid JSON: {e}"))?;
        let fields = case.as_object().ok_or("expected a JSON object")?;
        let calendar = self.calendar(fields.get("calendar").ok_or("calendar: missing")?)?;
        let time = |key: &str| -> Result<Timestamp, String> {
            match fields.get(key) {
                None => Err(format!("{key}: missing")),
                Some(Value::String(s)) => s.parse::<Timestamp>().map_err(|_| {
                    format!("{key}: {s:?} is not an RFC 3339 time with an offset (e.g. 2026-11-02T09:00:00Z)")
                }),
                Some(other) => Err(format!("{key}: expected an RFC 3339 string, got {other}")),
            }
        };
        let op = fields
            .get("op")
            .and_then(Value::as_str)
            .ok_or("op: missing (add, elapsed, is_open, next_business or prev_business)")?;
        let result =
            |t: Result<Timestamp, accord_core::calendar::CalendarError>| -> Result<Value, String> {
                let t = t.map_err(|e| e.to_string())?;
                Ok(json!({ "result": format_instant(&calendar, t) }))
            };
        match op {
            "add" => {
                let start = time("start")?;
                let seconds = match fields.get("seconds") {
                    None => return Err("seconds: missing".into()),
                    Some(v) => v.as_i64().ok_or_else(|| {
                        format!("seconds: expected a whole number of seconds, got {v}")
                    })?,
                };
                result(calendar.add(start, seconds))
            }
            "elapsed" => {
                let (from, to) = (time("from")?, time("to")?);
                Ok(json!({ "seconds": calendar.elapsed(from, to) }))
            }
            "is_open" => Ok(json!({ "open": calendar.is_open(time("at")?) })),
            "next_business" => result(calendar.next_business(time("at")?)),
            "prev_business" => result(calendar.prev_business(time("at")?)),
            other => Err(format!(
                "op: unknown operation {other:?} (expected add, elapsed, is_open, next_business or prev_business)"
            )),
        }
    }
}

/// Answers each non-blank JSON line of `input` with one JSON line, in order. Output is
/// flushed whenever no more input is already buffered (never by waiting for it), so a
/// caller that writes a line and waits for its answer gets it, and a file streams fast.
pub fn eval(input: impl Read, mut out: impl Write) -> std::io::Result<()> {
    let mut evaluator = Evaluator {
        calendars: HashMap::new(),
    };
    let mut input = BufReader::with_capacity(1 << 16, input);
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            break;
        }
        if line.trim().is_empty() {
            continue;
        }
        let answer = evaluator.case(line.trim());
        serde_json::to_writer(&mut out, &answer)?;
        out.write_all(b"\n")?;
        if input.buffer().is_empty() {
            out.flush()?;
        }
    }
    out.flush()
}

/// Loads a calendar for `show`: `24x7`, or a YAML/JSON file of SLA-as-code.
fn load_calendar(source: &str, id: Option<&str>) -> anyhow::Result<(String, Calendar)> {
    if source == "24x7" {
        return Ok(("24x7".into(), Calendar::always_open()));
    }
    let path = Path::new(source);
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {source}"))?;
    let doc = calendar_from_yaml(&text, source, id).map_err(anyhow::Error::msg)?;
    let base = path.parent().unwrap_or(Path::new("."));
    let calendar = doc
        .build(&ics_reader(base))
        .map_err(|e| anyhow::anyhow!("{source}: {e}"))?;
    Ok((doc.id.unwrap_or_else(|| source.to_owned()), calendar))
}

fn duration(seconds: i64) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    match (m, s) {
        (0, 0) => format!("{h}h"),
        (_, 0) => format!("{h}h{m:02}m"),
        _ => format!("{h}h{m:02}m{s:02}s"),
    }
}

/// Prints the open intervals of `from..=to` (local dates) in local time, a line per
/// date, with the holidays and special hours that explain them.
pub fn show(
    source: &str,
    id: Option<&str>,
    from: Date,
    to: Date,
    mut out: impl Write,
) -> anyhow::Result<()> {
    if to < from {
        anyhow::bail!("--to {to} is before --from {from}");
    }
    let (name, calendar) = load_calendar(source, id)?;
    let tz = calendar.time_zone().clone();
    let start_of =
        |d: Date| -> anyhow::Result<Timestamp> { Ok(d.to_zoned(tz.clone())?.timestamp()) };
    let end_date = to.tomorrow()?;
    let intervals = calendar.open_intervals(start_of(from)?, start_of(end_date)?);
    writeln!(
        out,
        "calendar {name} ({}), {from} to {to}, local time",
        calendar.zone_name()
    )?;
    let mut total = 0;
    let mut next = intervals.iter().peekable();
    let mut date = from;
    while date <= to {
        let mut spans = Vec::new();
        while let Some(&&(s, e)) = next.peek() {
            let zs = s.to_zoned(tz.clone());
            if zs.date() != date {
                break;
            }
            let ze = e.to_zoned(tz.clone());
            let mut text = zs.strftime("%H:%M").to_string();
            let offsets_differ = zs.offset() != ze.offset();
            if offsets_differ {
                text.push_str(&zs.strftime(" (%:z)").to_string());
            }
            text.push('-');
            if ze.date() != date {
                text.push_str(&ze.strftime("%a ").to_string());
            }
            text.push_str(&ze.strftime("%H:%M").to_string());
            if offsets_differ {
                text.push_str(&ze.strftime(" (%:z)").to_string());
            }
            spans.push(text);
            total += e.as_second() - s.as_second();
            next.next();
        }
        let open: i64 = intervals
            .iter()
            .filter(|(s, _)| s.to_zoned(tz.clone()).date() == date)
            .map(|(s, e)| e.as_second() - s.as_second())
            .sum();
        let note = match calendar.date_rule(date) {
            Some(DateRule::Closed) => "holiday",
            Some(DateRule::Hours(_)) => "own hours",
            None => "",
        };
        let hours = if spans.is_empty() {
            "closed".to_owned()
        } else {
            spans.join(", ")
        };
        let amount = if open > 0 {
            duration(open)
        } else {
            String::new()
        };
        writeln!(
            out,
            "{} {date}  {hours:<36} {amount:>8}  {note}",
            date.strftime("%a")
        )?;
        date = date.tomorrow()?;
    }
    writeln!(out, "total open time: {}", duration(total))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &str) -> Vec<Value> {
        let mut out = Vec::new();
        eval(input.as_bytes(), &mut out).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    const NYC: &str = r#"{"timezone":"America/New_York","hours":{"mon":["09:00-17:00"],"tue":["09:00-17:00"],"wed":["09:00-17:00"],"thu":["09:00-17:00"],"fri":["09:00-17:00"]},"holidays":["2026-12-25"]}"#;

    #[test]
    fn every_operation_answers_in_the_calendar_offset() {
        let input = [
            format!(r#"{{"calendar":{NYC},"op":"add","start":"2026-11-02T14:00:00Z","seconds":28800}}"#),
            format!(r#"{{"calendar":{NYC},"op":"add","start":"2026-11-03T14:00:00Z","seconds":-3600}}"#),
            String::new(),
            format!(r#"{{"calendar":{NYC},"op":"elapsed","from":"2026-11-03T14:00:00Z","to":"2026-11-02T14:00:00Z"}}"#),
            format!(r#"{{"calendar":{NYC},"op":"is_open","at":"2026-12-25T15:00:00Z"}}"#),
            format!(r#"{{"calendar":{NYC},"op":"next_business","at":"2026-12-24T22:00:00Z"}}"#),
            format!(r#"{{"calendar":{NYC},"op":"prev_business","at":"2026-07-01T14:00:00+02:00"}}"#),
            r#"{"calendar":"24x7","op":"add","start":"2026-11-02T14:00:00+01:00","seconds":60}"#.to_owned(),
        ]
        .join("\n");
        let out = run(&input);
        assert_eq!(
            out,
            [
                json!({"result": "2026-11-02T17:00:00-05:00"}),
                json!({"result": "2026-11-02T16:00:00-05:00"}),
                json!({"seconds": -28800}),
                json!({"open": false}),
                json!({"result": "2026-12-28T09:00:00-05:00"}),
                json!({"result": "2026-06-30T17:00:00-04:00"}),
                json!({"result": "2026-11-02T13:01:00Z"}),
            ]
        );
    }

    #[test]
    fn a_bad_line_answers_an_error_and_the_rest_go_on() {
        let input = [
            "not json".to_owned(),
            r#"{"calendar":"24x7","op":"add","start":"yesterday","seconds":60}"#.to_owned(),
            r#"{"calendar":"24x7","op":"add","start":"2026-11-02T14:00:00Z","seconds":1.5}"#.to_owned(),
            r#"{"calendar":"24x7","op":"jump","at":"2026-11-02T14:00:00Z"}"#.to_owned(),
            r#"{"calendar":{"timezone":"UTC","hours":{"mon":["25:00-26:00"]}},"op":"is_open","at":"2026-11-02T14:00:00Z"}"#.to_owned(),
            r#"{"calendar":"8x5","op":"is_open","at":"2026-11-02T14:00:00Z"}"#.to_owned(),
            r#"{"op":"is_open","at":"2026-11-02T14:00:00Z"}"#.to_owned(),
            r#"{"calendar":"24x7","op":"add","start":"2026-11-02T14:00:00Z","seconds":9223372036854775807}"#.to_owned(),
            r#"{"calendar":"24x7","op":"is_open","at":"2026-11-02T14:00:00Z"}"#.to_owned(),
        ]
        .join("\n");
        let out = run(&input);
        assert_eq!(out.len(), 9);
        let errors: Vec<&str> = out[..7]
            .iter()
            .map(|v| v["error"].as_str().unwrap())
            .collect();
        assert!(errors[0].starts_with("not valid JSON"));
        assert_eq!(
            errors[1],
            "start: \"yesterday\" is not an RFC 3339 time with an offset (e.g. 2026-11-02T09:00:00Z)"
        );
        assert_eq!(
            errors[2],
            "seconds: expected a whole number of seconds, got 1.5"
        );
        assert!(errors[3].starts_with("op: unknown operation \"jump\""));
        assert!(
            errors[4].starts_with("calendar: \"25:00-26:00\" is not an interval"),
            "{}",
            errors[4]
        );
        assert_eq!(
            errors[5],
            "calendar: expected a calendar object or \"24x7\""
        );
        assert_eq!(errors[6], "calendar: missing");
        assert_eq!(
            out[7],
            json!({"error": "the result is outside the supported range of instants (years -9999 to 9999)"})
        );
        assert_eq!(out[8], json!({"open": true}));
    }

    #[test]
    fn show_explains_a_holiday_week() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("calendars.yaml");
        std::fs::write(
            &file,
            "kind: calendar\nid: nyc\ntimezone: America/New_York\nhours: {mon: [\"09:00-17:00\"], tue: [\"09:00-17:00\"], wed: [\"09:00-17:00\"], thu: [\"09:00-17:00\"], fri: [\"09:00-17:00\"], sat: [\"22:00-02:00\"]}\nholidays:\n  - 2026-12-25\n  - {date: 2026-12-24, hours: [\"09:00-12:00\"]}\n",
        )
        .unwrap();
        let mut out = Vec::new();
        show(
            file.to_str().unwrap(),
            Some("nyc"),
            "2026-12-23".parse().unwrap(),
            "2026-12-27".parse().unwrap(),
            &mut out,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
        assert_eq!(
            lines[0],
            "calendar nyc (America/New_York), 2026-12-23 to 2026-12-27, local time"
        );
        assert!(
            lines[1].starts_with("Wed 2026-12-23  09:00-17:00") && lines[1].ends_with("8h"),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].starts_with("Thu 2026-12-24  09:00-12:00")
                && lines[2].ends_with("3h  own hours"),
            "{}",
            lines[2]
        );
        assert!(
            lines[3].starts_with("Fri 2026-12-25  closed") && lines[3].ends_with("holiday"),
            "{}",
            lines[3]
        );
        assert!(
            lines[4].starts_with("Sat 2026-12-26  22:00-Sun 02:00"),
            "{}",
            lines[4]
        );
        assert!(
            lines[5].starts_with("Sun 2026-12-27  closed"),
            "{}",
            lines[5]
        );
        assert_eq!(lines[6], "total open time: 15h");
    }

    #[test]
    fn show_marks_a_dst_change_inside_an_interval() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.yaml");
        std::fs::write(
            &file,
            "kind: calendar\ntimezone: America/New_York\nhours: {sun: [\"01:00-04:00\"]}\n",
        )
        .unwrap();
        let mut out = Vec::new();
        show(
            file.to_str().unwrap(),
            None,
            "2026-03-08".parse().unwrap(),
            "2026-03-08".parse().unwrap(),
            &mut out,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("01:00 (-05:00)-04:00 (-04:00)"), "{text}");
        assert!(text.contains("total open time: 2h"), "{text}");
    }
}
