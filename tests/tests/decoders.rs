//! Every decoder we own, fed arbitrary bytes and damaged valid encodings: tickets, control socket
//! lines, pairing messages, panel files and outbox documents (of any shape, with one value of the
//! wrong kind, and as damaged saved bytes). Each answers with the error its input calls for, and
//! never panics. A few hundred cases each here; `cargo bench -p backstory-tests --bench decoders`
//! runs over 100 000.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use backstory_core::control::{self, Frame, FrameError};
use backstory_core::crdt::DocError;
use backstory_core::crdt::automerge::ScalarValue;
use backstory_core::pairing::{Answer, Join};
use backstory_core::ticket::{Ticket, TicketError};
use backstory_core::{EngineError, parse_panel_file};
use backstory_tests::decoders::outbox::{self, Node};
use backstory_tests::decoders::{self, Input};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

fn a_ticket() -> Ticket {
    Ticket {
        endpoint: [7; 32],
        secret: [9; 32],
        expires: 1_900_000_000_000,
        relay: Some("https://relay.example.org/".into()),
        addrs: vec![
            "192.0.2.1:4433".parse().unwrap(),
            "[2001:db8::1]:4433".parse().unwrap(),
        ],
    }
}

#[test]
fn tickets_damaged_in_known_ways_are_refused_by_name() {
    let t = a_ticket();
    let text = t.encode();
    assert_eq!(Ticket::decode(&text), Ok(t.clone()));
    assert_eq!(Ticket::decode(&format!(" {}\n", t.link())), Ok(t.clone()));
    assert_eq!(
        Ticket::decode(&text[..text.len() - 9]),
        Err(TicketError::Truncated)
    );
    // One character changed in the middle: the checksum no longer matches.
    let mut changed = text.clone().into_bytes();
    let mid = changed.len() / 2;
    changed[mid] = if changed[mid] == b'a' { b'b' } else { b'a' };
    assert_eq!(
        Ticket::decode(std::str::from_utf8(&changed).unwrap()),
        Err(TicketError::Damaged)
    );
    assert_eq!(
        Ticket::decode(&format!("{text}!")),
        Err(TicketError::BadCharacters)
    );
    assert_eq!(Ticket::decode("hello"), Err(TicketError::NotATicket));
    assert_eq!(Ticket::decode(""), Err(TicketError::NotATicket));
}

#[test]
fn control_lines_are_refused_by_kind() {
    let read = |bytes: &[u8]| {
        let mut reader = tokio::io::BufReader::new(bytes);
        let mut line = String::new();
        futures::executor::block_on(control::read_frame(&mut reader, &mut line))
    };
    assert!(matches!(
        read(b"{\"frame\":\"events\"}\n"),
        Ok(Some(Frame::Events))
    ));
    assert!(matches!(read(b""), Ok(None)));
    assert!(matches!(
        read(b"{\"frame\":\"nope\"}\n"),
        Err(FrameError::Invalid(_))
    ));
    assert!(matches!(read(b"\xff\xfe\n"), Err(FrameError::Io(_))));
    let long = vec![b' '; control::MAX_LINE + 10];
    assert!(matches!(read(&long), Err(FrameError::TooLong)));
    // A line at the limit is read (and refused only for what it says).
    let mut at_limit = vec![b' '; control::MAX_LINE - 1];
    at_limit.push(b'\n');
    assert!(matches!(read(&at_limit), Err(FrameError::Invalid(_))));
}

#[test]
fn pairing_messages_past_their_bounds_are_refused() {
    let join = Join {
        secret: "ab".repeat(32),
        name: "Ann".into(),
        outbox: "3xH7mQ2vZkR9tLpW8sNcYd".into(),
        addrs: Vec::new(),
    };
    let bytes = decoders::message(&join);
    let intact = Input {
        valid: Some((join, bytes.clone())),
        bytes: bytes.clone(),
    };
    decoders::check_message(&intact).unwrap();
    for bytes in [
        bytes[..bytes.len() - 1].to_vec(),
        (64 * 1024 + 1u32).to_be_bytes().to_vec(),
        vec![0, 0],
        [&3u32.to_be_bytes()[..], b"{\"a"].concat(),
    ] {
        decoders::check_message::<Join>(&Input::raw(bytes.clone())).unwrap();
        let got =
            futures::executor::block_on(backstory_core::pairing::recv::<_, Join>(&mut &bytes[..]));
        assert!(got.is_err(), "{bytes:?} read as {got:?}");
    }
}

#[test]
fn panel_files_are_checked_line_by_line() {
    let saved = &outbox::valid().saved;
    let (header, doc) = parse_panel_file(&decoders::panel_file(outbox::OWNER, saved)).unwrap();
    assert_eq!(header.from, outbox::OWNER);
    assert_eq!(
        backstory_core::crdt::read_panel(&doc)
            .unwrap()
            .entries
            .len(),
        4
    );
    for bad in [
        decoders::panel_file("someone else", saved),
        decoders::panel_file(outbox::OWNER, &saved[..saved.len() / 2]),
        b"BACKSTORY-PANEL 2\n{}\n".to_vec(),
        decoders::PANEL_MAGIC.to_vec(),
        Vec::new(),
    ] {
        assert!(matches!(
            parse_panel_file(&bad),
            Err(EngineError::BadImport(_))
        ));
    }
}

#[test]
fn outbox_schema_versions_are_checked_first() {
    let with_schema = |v: Node| {
        outbox::document(&[
            ("schema".into(), v),
            ("panel".into(), Node::List(Vec::new())),
        ])
        .unwrap()
    };
    let newer = with_schema(Node::Scalar(ScalarValue::Uint(2)));
    assert!(matches!(
        backstory_core::crdt::read_panel(&newer),
        Err(DocError::UnsupportedSchema { found: 2 })
    ));
    let text = with_schema(Node::Scalar(ScalarValue::Str("1".into())));
    assert!(matches!(
        backstory_core::crdt::read_panel(&text),
        Err(DocError::Shape(_))
    ));
    // A supported version with a panel that is a list, not a map.
    let list = with_schema(Node::Scalar(ScalarValue::Uint(1)));
    assert!(matches!(
        backstory_core::crdt::read_panel(&list),
        Err(DocError::Shape(_))
    ));
    for top in [Vec::new(), vec![("panel".into(), Node::Text("x".into()))]] {
        outbox::check_shape(&top).unwrap();
    }
}

#[test]
fn every_value_of_an_outbox_replaced_by_every_other_kind_is_refused() {
    let mut cases = 0;
    for d in outbox::every_damage() {
        outbox::check_damage(&d).unwrap();
        cases += 1;
    }
    assert!(cases > 500, "only {cases} damages");
}

fn fail(why: String) -> TestCaseError {
    TestCaseError::fail(why)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn tickets(input in decoders::ticket_input()) {
        decoders::check_ticket(&input).map_err(fail)?;
    }

    #[test]
    fn control_requests(input in decoders::frame_input()) {
        decoders::check_frame(&input).map_err(fail)?;
    }

    #[test]
    fn control_replies(input in decoders::reply_input()) {
        decoders::check_reply(&input).map_err(fail)?;
    }

    #[test]
    fn pairing_joins(input in decoders::message_input(decoders::join())) {
        decoders::check_message::<Join>(&input).map_err(fail)?;
    }

    #[test]
    fn pairing_answers(input in decoders::message_input(decoders::answer())) {
        decoders::check_message::<Answer>(&input).map_err(fail)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn panel_files(input in decoders::panel_file_input()) {
        decoders::check_panel_file(&input).map_err(fail)?;
    }

    #[test]
    fn outbox_documents_of_any_shape(top in outbox::shape()) {
        outbox::check_shape(&top).map_err(fail)?;
    }

    #[test]
    fn outbox_documents_with_a_value_of_the_wrong_kind(d in outbox::damage()) {
        outbox::check_damage(&d).map_err(fail)?;
    }

    #[test]
    fn saved_outboxes(input in outbox::saved_input()) {
        outbox::check_saved(&input).map_err(fail)?;
    }
}
