#![allow(clippy::unwrap_used)]

use super::*;
use crate::ticket::TicketError;

const NOW: i64 = 1_800_000_000_000;
const ME: &str = "0202020202020202020202020202020202020202020202020202020202020202";

fn doc_id(n: u8) -> String {
    samod::DocumentId::try_from(vec![n; 16])
        .unwrap()
        .to_string()
}

fn ticket() -> Ticket {
    Ticket {
        endpoint: [1; 32],
        secret: [9; 32],
        expires: NOW + 60_000,
        relay: None,
        addrs: vec!["127.0.0.1:4433".parse().unwrap()],
    }
}

fn start(text: &str) -> Result<(Joiner, Vec<JoinerEffect>), PairError> {
    Joiner::start(text, NOW, ME, "Bob", Vec::new())
}

fn code(e: PairError) -> crate::error::ErrorCode {
    e.code()
}

#[test]
fn each_bad_ticket_fails_before_anything_happens_with_its_own_code() {
    use crate::error::ErrorCode as C;
    let good = ticket().encode();
    let mut damaged = good.clone().into_bytes();
    damaged[40] = if damaged[40] == b'a' { b'b' } else { b'a' };
    let damaged = String::from_utf8(damaged).unwrap();
    let expired = Ticket {
        expires: NOW,
        ..ticket()
    }
    .encode();
    let mine = Ticket {
        endpoint: [2; 32],
        ..ticket()
    }
    .encode();
    let cases: [(&str, String, C); 7] = [
        ("not a ticket", "hello".into(), C::BadTicket),
        ("odd characters", format!("{good}!"), C::BadTicket),
        (
            "truncated",
            good[..good.len() - 9].to_string(),
            C::TicketTruncated,
        ),
        ("damaged", damaged, C::TicketDamaged),
        (
            "newer format",
            ticket().encode_as_version(2),
            C::TicketTooNew,
        ),
        ("expired", expired, C::TicketExpired),
        ("my own", mine, C::SelfPairing),
    ];
    for (what, text, want) in cases {
        let err = start(&text)
            .err()
            .unwrap_or_else(|| panic!("{what} was accepted"));
        assert_eq!(code(err), want, "{what}");
    }
    assert!(matches!(
        start(&ticket().encode_as_version(2)),
        Err(PairError::Ticket(TicketError::UnsupportedVersion(2)))
    ));
}

/// Runs a joiner through to its request: returns it waiting for the answer, and its outbox.
fn joiner_waiting() -> (Joiner, String) {
    let (mut j, effects) = start(&ticket().encode()).unwrap();
    assert_eq!(
        effects,
        [JoinerEffect::CheckPeer {
            peer: hex::encode([1u8; 32])
        }]
    );
    assert_eq!(
        j.handle(JoinerInput::Checked(None)),
        [JoinerEffect::Connect]
    );
    assert_eq!(
        j.handle(JoinerInput::Connected),
        [JoinerEffect::CreateOutbox]
    );
    let outbox = doc_id(3);
    let sent = j.handle(JoinerInput::OutboxCreated(outbox.clone()));
    let [JoinerEffect::Send(join)] = sent.as_slice() else {
        panic!("{sent:?}")
    };
    assert_eq!(join.secret, hex::encode([9u8; 32]));
    assert_eq!(join.outbox, outbox);
    assert_eq!(join.name, "Bob");
    (j, outbox)
}

#[test]
fn a_joiner_records_the_contact_only_when_accepted() {
    let (mut j, outbox) = joiner_waiting();
    assert_eq!(
        j.handle(JoinerInput::Answered(Answer::Pending)),
        [JoinerEffect::Waiting]
    );
    let inbound = doc_id(4);
    assert_eq!(
        j.handle(JoinerInput::Answered(Answer::Accepted {
            name: "  Ann\u{7}  ".into(),
            outbox: inbound.clone(),
        })),
        [JoinerEffect::Record {
            name: "Ann".into(),
            outbox,
            inbound
        }]
    );
    assert!(j.is_done());
}

#[test]
fn an_inviter_cannot_keep_a_joiner_waiting_by_saying_pending_again() {
    let (mut j, outbox) = joiner_waiting();
    assert_eq!(
        j.handle(JoinerInput::Answered(Answer::Pending)),
        [JoinerEffect::Waiting]
    );
    let again = j.handle(JoinerInput::Answered(Answer::Pending));
    assert!(
        matches!(
            again.as_slice(),
            [JoinerEffect::Forget { outbox: o }, JoinerEffect::Fail(PairErrorKind::Lost(_))]
                if *o == outbox
        ),
        "{again:?}"
    );
    assert!(j.is_done());
}

#[test]
fn a_joiner_takes_its_outbox_back_on_every_refusal() {
    for reason in [
        Refusal::UnknownTicket,
        Refusal::Expired,
        Refusal::Used,
        Refusal::AlreadyPaired,
        Refusal::Denied,
        Refusal::TimedOut,
        Refusal::BadRequest,
    ] {
        let (mut j, outbox) = joiner_waiting();
        assert_eq!(
            j.handle(JoinerInput::Answered(Answer::Refused { reason })),
            [
                JoinerEffect::Forget { outbox },
                JoinerEffect::Fail(PairErrorKind::Refused(reason))
            ]
        );
    }
    let (mut j, outbox) = joiner_waiting();
    assert_eq!(
        j.handle(JoinerInput::Lost("reset".into())),
        [
            JoinerEffect::Forget { outbox },
            JoinerEffect::Fail(PairErrorKind::Lost("reset".into()))
        ]
    );
}

#[test]
fn a_joiner_refuses_a_malformed_acceptance() {
    for (name, inbound) in [
        ("", doc_id(4)),
        ("Ann", "not a document".to_string()),
        ("Ann", doc_id(3)), // my own outbox handed back
    ] {
        let (mut j, outbox) = joiner_waiting();
        let effects = j.handle(JoinerInput::Answered(Answer::Accepted {
            name: name.into(),
            outbox: inbound,
        }));
        assert_eq!(effects[0], JoinerEffect::Forget { outbox });
        assert!(matches!(
            effects[1],
            JoinerEffect::Fail(PairErrorKind::Lost(_))
        ));
    }
}

#[test]
fn a_joiner_already_paired_stops_before_connecting() {
    let (mut j, _) = start(&ticket().encode()).unwrap();
    assert_eq!(
        j.handle(JoinerInput::Checked(Some("Ann".into()))),
        [JoinerEffect::Fail(PairErrorKind::AlreadyPaired(
            "Ann".into()
        ))]
    );
}

fn join(secret: &str, name: &str, outbox: &str) -> Join {
    Join {
        secret: secret.into(),
        name: name.into(),
        outbox: outbox.into(),
        addrs: Vec::new(),
    }
}

fn good_join() -> Join {
    join(&hex::encode([9u8; 32]), "Bob", &doc_id(5))
}

fn refused(reason: Refusal) -> Vec<InviterEffect> {
    vec![InviterEffect::Reply(Answer::Refused { reason })]
}

#[test]
fn an_inviter_refuses_malformed_requests_without_looking_anything_up() {
    for bad in [
        join("zz", "Bob", &doc_id(5)),
        join(&hex::encode([9u8; 31]), "Bob", &doc_id(5)),
        join(&hex::encode([9u8; 32]), " \u{1b} ", &doc_id(5)),
        join(&hex::encode([9u8; 32]), "Bob", "nope"),
    ] {
        let mut i = Inviter::new("Ann");
        assert_eq!(
            i.handle(InviterInput::Joined(bad)),
            refused(Refusal::BadRequest)
        );
        assert!(i.is_done());
    }
}

fn looked_up() -> Inviter {
    let mut i = Inviter::new("Ann");
    assert_eq!(
        i.handle(InviterInput::Joined(good_join())),
        [InviterEffect::LookUp {
            secret_hash: secret_hash(&[9u8; 32]),
            outbox: doc_id(5),
        }]
    );
    i
}

#[test]
fn an_inviter_refuses_unknown_expired_used_and_repeated_pairings() {
    for (invite, already, want) in [
        (Err(InviteRefusal::Unknown), false, Refusal::UnknownTicket),
        (Err(InviteRefusal::Expired), false, Refusal::Expired),
        (Err(InviteRefusal::Used), false, Refusal::Used),
        (Ok(false), true, Refusal::AlreadyPaired),
    ] {
        let mut i = looked_up();
        assert_eq!(
            i.handle(InviterInput::Looked {
                invite,
                already_paired: already,
                document_in_use: false
            }),
            refused(want)
        );
    }
}

fn redeem_effect(outbox: &str) -> InviterEffect {
    InviterEffect::Redeem {
        secret_hash: secret_hash(&[9u8; 32]),
        name: "Bob".into(),
        outbox: outbox.into(),
        inbound: doc_id(5),
    }
}

#[test]
fn an_inviter_pairs_in_one_transaction_and_answers_last() {
    let mut i = looked_up();
    assert_eq!(
        i.handle(InviterInput::Looked {
            invite: Ok(false),
            already_paired: false,
            document_in_use: false
        }),
        [InviterEffect::CreateOutbox]
    );
    let mine = doc_id(6);
    assert_eq!(
        i.handle(InviterInput::OutboxCreated(mine.clone())),
        [redeem_effect(&mine)]
    );
    assert_eq!(
        i.handle(InviterInput::Redeemed(Ok(()))),
        [
            InviterEffect::Paired {
                outbox: mine.clone()
            },
            InviterEffect::Reply(Answer::Accepted {
                name: "Ann".into(),
                outbox: mine
            })
        ]
    );
}

#[test]
fn an_inviter_asks_for_approval_and_a_denial_records_nothing() {
    let mut i = looked_up();
    assert_eq!(
        i.handle(InviterInput::Looked {
            invite: Ok(true),
            already_paired: false,
            document_in_use: false
        }),
        [
            InviterEffect::Reply(Answer::Pending),
            InviterEffect::AskApproval { name: "Bob".into() }
        ]
    );
    assert_eq!(
        i.handle(InviterInput::Decided(false)),
        refused(Refusal::Denied)
    );
    let mut i = looked_up();
    i.handle(InviterInput::Looked {
        invite: Ok(true),
        already_paired: false,
        document_in_use: false,
    });
    assert_eq!(
        i.handle(InviterInput::Decided(true)),
        [InviterEffect::CreateOutbox]
    );
}

#[test]
fn a_ticket_used_meanwhile_takes_the_new_outbox_back() {
    let mut i = looked_up();
    i.handle(InviterInput::Looked {
        invite: Ok(false),
        already_paired: false,
        document_in_use: false,
    });
    let mine = doc_id(6);
    i.handle(InviterInput::OutboxCreated(mine.clone()));
    assert_eq!(
        i.handle(InviterInput::Redeemed(Err(InviteRefusal::Used))),
        [
            InviterEffect::Forget { outbox: mine },
            InviterEffect::Reply(Answer::Refused {
                reason: Refusal::Used
            })
        ]
    );
}

#[test]
fn names_are_cleaned_and_bounded() {
    assert_eq!(clean_name("  Ann \n"), Some("Ann".into()));
    assert_eq!(clean_name("\u{7}\u{1b}"), None);
    assert_eq!(
        clean_name(&"x".repeat(500)).unwrap().chars().count(),
        MAX_NAME
    );
}

#[test]
fn a_joiner_naming_a_document_in_use_is_refused_before_anything_is_made() {
    let mut i = looked_up();
    assert_eq!(
        i.handle(InviterInput::Looked {
            invite: Ok(false),
            already_paired: false,
            document_in_use: true,
        }),
        refused(Refusal::DocumentInUse)
    );
    assert!(i.is_done());
}
