//! Small edits of MJCF text, the counterpart of the `lxml` edits some
//! dm_control domains make to their XML before compiling it (removing unused
//! bodies, geoms and sensors, changing an attribute).
//!
//! The edits work on the text of the suite's own, well-formed files: an
//! element is `<tag ...>...</tag>` or `<tag .../>`, attribute values contain
//! no `>`.

use crate::error::EnvError;

/// Byte ranges of an element: its start, the end of its opening tag (one past
/// the `>`), and its end (one past the closing `>`).
struct Span {
    start: usize,
    open_end: usize,
    end: usize,
}

/// Positions of every opening `<tag` (followed by whitespace, `/` or `>`).
fn openings(xml: &str, tag: &str) -> Vec<usize> {
    let pattern = format!("<{tag}");
    xml.match_indices(&pattern)
        .map(|(i, _)| i)
        .filter(|&i| {
            xml[i + pattern.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_whitespace() || c == '/' || c == '>')
        })
        .collect()
}

/// The value of attribute `attr` in an opening tag's text.
fn attribute<'a>(open_tag: &'a str, attr: &str) -> Option<&'a str> {
    let pattern = format!("{attr}=\"");
    let mut from = 0;
    while let Some(i) = open_tag[from..].find(&pattern) {
        let at = from + i;
        let preceded_by_space = open_tag[..at]
            .chars()
            .next_back()
            .is_some_and(char::is_whitespace);
        let value_start = at + pattern.len();
        if preceded_by_space {
            let len = open_tag[value_start..].find('"')?;
            return Some(&open_tag[value_start..value_start + len]);
        }
        from = value_start;
    }
    None
}

/// The span of the element starting at `start`.
fn span_at(xml: &str, tag: &str, start: usize) -> Result<Span, EnvError> {
    let unclosed = || EnvError::Model(format!("unterminated <{tag}> element in MJCF"));
    let open_end = start + xml[start..].find('>').ok_or_else(unclosed)? + 1;
    if xml[..open_end].ends_with("/>") {
        return Ok(Span {
            start,
            open_end,
            end: open_end,
        });
    }
    let close = format!("</{tag}>");
    let mut depth = 1usize;
    let mut at = open_end;
    let mut inner = openings(xml, tag)
        .into_iter()
        .filter(|&i| i >= open_end)
        .peekable();
    loop {
        let next_close = at + xml[at..].find(&close).ok_or_else(unclosed)?;
        match inner.peek() {
            Some(&o) if o < next_close => {
                inner.next();
                let nested_open_end = o + xml[o..].find('>').ok_or_else(unclosed)? + 1;
                if !xml[..nested_open_end].ends_with("/>") {
                    depth += 1;
                }
                at = nested_open_end;
            }
            _ => {
                depth -= 1;
                at = next_close + close.len();
                if depth == 0 {
                    return Ok(Span {
                        start,
                        open_end,
                        end: at,
                    });
                }
            }
        }
    }
}

/// The first `<tag name="name">` element in document order (lxml's
/// `.//tag[@name='name']`).
fn find(xml: &str, tag: &str, name: &str) -> Result<Span, EnvError> {
    for start in openings(xml, tag) {
        let span = span_at(xml, tag, start)?;
        if attribute(&xml[start..span.open_end], "name") == Some(name) {
            return Ok(span);
        }
    }
    Err(EnvError::Model(format!(
        "MJCF has no <{tag}> element named '{name}'"
    )))
}

/// Removes the first element `<tag name="name">` with everything inside it.
pub(crate) fn remove_element(xml: &mut String, tag: &str, name: &str) -> Result<(), EnvError> {
    let span = find(xml, tag, name)?;
    xml.replace_range(span.start..span.end, "");
    Ok(())
}

/// Removes every `<tag>` element; returns how many were removed.
pub(crate) fn remove_all(xml: &mut String, tag: &str) -> Result<usize, EnvError> {
    let mut removed = 0;
    while let Some(&start) = openings(xml, tag).first() {
        let span = span_at(xml, tag, start)?;
        xml.replace_range(span.start..span.end, "");
        removed += 1;
    }
    Ok(removed)
}

/// Sets attribute `attr` of the first `<tag name="name">` element to `value`
/// (adding it if absent).
pub(crate) fn set_attribute(
    xml: &mut String,
    tag: &str,
    name: &str,
    attr: &str,
    value: &str,
) -> Result<(), EnvError> {
    let span = find(xml, tag, name)?;
    let open = &xml[span.start..span.open_end];
    let new_open = match attribute(open, attr) {
        Some(old) => {
            let old_start = old.as_ptr() as usize - open.as_ptr() as usize;
            format!(
                "{}{value}{}",
                &open[..old_start],
                &open[old_start + old.len()..]
            )
        }
        None => {
            let cut = if open.ends_with("/>") {
                open.len() - 2
            } else {
                open.len() - 1
            };
            format!("{} {attr}=\"{value}\"{}", &open[..cut], &open[cut..])
        }
    };
    xml.replace_range(span.start..span.open_end, &new_open);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = r#"<mujoco>
  <worldbody>
    <geom name="floor" type="plane" size="15 15 .5"/>
    <body name="a" pos="0 0 1">
      <body name="b"><geom name="g"/></body>
      <body name="c"/>
    </body>
    <body  name="d"><site name="s" hfield="x"/></body>
  </worldbody>
  <sensor><rangefinder name="r1" site="s"/><rangefinder name="r2" site="s"/></sensor>
</mujoco>"#;

    #[test]
    fn removes_nested_elements_whole() {
        let mut xml = XML.to_string();
        remove_element(&mut xml, "body", "a").unwrap();
        assert!(!xml.contains("name=\"b\"") && !xml.contains("name=\"c\""));
        assert!(xml.contains("<body  name=\"d\">"));
        assert_eq!(xml.matches("</body>").count(), 1);
        remove_element(&mut xml, "body", "d").unwrap();
        assert!(!xml.contains("<body"));
        assert!(remove_element(&mut xml, "body", "d").is_err());
    }

    #[test]
    fn removes_all_of_a_tag_and_sets_attributes() {
        let mut xml = XML.to_string();
        assert_eq!(remove_all(&mut xml, "rangefinder").unwrap(), 2);
        assert!(xml.contains("<sensor></sensor>"));
        set_attribute(&mut xml, "geom", "floor", "size", "10 10 .5").unwrap();
        assert!(xml.contains(r#"<geom name="floor" type="plane" size="10 10 .5"/>"#));
        set_attribute(&mut xml, "geom", "g", "size", "1").unwrap();
        assert!(xml.contains(r#"<geom name="g" size="1"/>"#));
    }
}
