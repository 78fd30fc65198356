//! The interop tests' tool check (tests/common): a missing outside tool skips a test with a
//! message naming it, except under CI, where it fails the run.

mod common;

#[test]
fn a_missing_tool_is_a_skip_outside_ci() {
    assert!(!common::decide(&["ffprobe", "no-such-tool"], false, |t| t == "ffprobe"));
    assert!(common::decide(&["ffprobe"], false, |t| t == "ffprobe"));
}

#[test]
#[should_panic(expected = "needs no-such-tool, which is not installed (CI=true")]
fn a_missing_tool_fails_under_ci() {
    common::decide(&["ffprobe", "no-such-tool"], true, |t| t == "ffprobe");
}

#[test]
fn tools_are_looked_up_on_path() {
    assert!(common::on_path("sh"));
    assert!(!common::available("chapmark-no-such-tool"));
    // mutagen is looked for with the python3 on PATH, never a fixed /usr/bin/python3.
    assert_eq!(common::python(), "python3");
}

#[test]
fn the_macro_returns_early_when_a_tool_is_missing() {
    fn body(reached: &mut bool) {
        if common::in_ci() {
            *reached = true;
            return;
        }
        require_tools!("chapmark-no-such-tool");
        *reached = true;
    }
    let mut reached = false;
    body(&mut reached);
    assert_eq!(reached, common::in_ci());
}
