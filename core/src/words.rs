//! Safety words: a few words both sides of a pairing derive from the two endpoint ids, so two people
//! can compare them out loud and know no one sits in between.

/// 256 short, distinct words: one byte each.
const WORDS: [&str; 256] = [
    "acid", "acorn", "actor", "adapt", "agent", "alarm", "album", "alley", "amber", "anchor",
    "angle", "ankle", "apple", "apron", "arena", "armor", "arrow", "atlas", "attic", "autumn",
    "avocado", "badge", "bagel", "baker", "bamboo", "banjo", "barrel", "basil", "basket", "beach",
    "beacon", "bean", "bear", "beaver", "bell", "berry", "bicycle", "bison", "blanket", "blossom",
    "boat", "bonsai", "book", "bottle", "breeze", "brick", "bridge", "brook", "brush", "bubble",
    "bucket", "buffalo", "butter", "cabin", "cactus", "camel", "camera", "candle", "canoe",
    "canyon", "carpet", "carrot", "castle", "cedar", "cello", "chalk", "cherry", "chess", "cider",
    "cinema", "circus", "citrus", "clock", "cloud", "clover", "coast", "cobalt", "cocoa", "comet",
    "compass", "copper", "coral", "cotton", "cradle", "crane", "crayon", "cricket", "crystal",
    "cupcake", "curtain", "dance", "daisy", "delta", "desert", "diamond", "dolphin", "donkey",
    "dragon", "drum", "eagle", "echo", "eclipse", "elbow", "ember", "engine", "falcon", "feather",
    "fern", "fiddle", "fig", "flute", "forest", "fossil", "fountain", "fox", "galaxy", "garden",
    "garlic", "gazelle", "geyser", "ginger", "glacier", "globe", "goose", "granite", "grape",
    "gravel", "guitar", "hammer", "harbor", "harp", "hazel", "hedge", "helmet", "heron", "hill",
    "honey", "horizon", "igloo", "island", "ivory", "jacket", "jade", "jaguar", "jasmine", "jelly",
    "jungle", "kayak", "kettle", "kiwi", "koala", "ladder", "lagoon", "lamp", "lantern", "laurel",
    "lemon", "lentil", "lily", "lion", "lizard", "lobster", "locket", "lotus", "magnet", "mango",
    "maple", "marble", "meadow", "melon", "mint", "mirror", "mitten", "moose", "mosaic", "moss",
    "mountain", "mushroom", "needle", "nest", "noodle", "oasis", "ocean", "olive", "onion",
    "orbit", "orchid", "otter", "owl", "paddle", "palm", "panda", "paper", "parrot", "peach",
    "pebble", "pelican", "pepper", "piano", "pillow", "pine", "planet", "plum", "pocket", "pony",
    "poppy", "puzzle", "quartz", "quill", "rabbit", "radio", "raft", "rain", "raven", "reef",
    "ribbon", "river", "robin", "rocket", "rose", "ruby", "saddle", "saffron", "sail", "salmon",
    "sand", "saturn", "scarf", "seal", "shell", "sierra", "silver", "sketch", "sled", "snow",
    "sparrow", "spice", "spruce", "squash", "star", "stone", "summit", "sunset", "swan", "tango",
    "teapot", "thistle", "thunder", "tiger", "timber", "tomato", "torch", "tulip", "tundra",
    "turtle", "umbrella",
];

/// How many words are shown: 40 bits.
pub const COUNT: usize = 5;

/// The safety words for a pair of endpoint ids; the same whichever side computes them.
pub fn safety_words(a: &str, b: &str) -> String {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let d = digest(lo, hi);
    d.iter()
        .take(COUNT)
        .map(|byte| WORDS[*byte as usize])
        .collect::<Vec<_>>()
        .join(" ")
}

/// BLAKE3 over both ids, with a domain separator.
fn digest(lo: &str, hi: &str) -> [u8; 32] {
    let mut h = blake3::Hasher::new_derive_key("backstory 2026 pairing safety words v1");
    h.update(lo.as_bytes());
    h.update(b"\0");
    h.update(hi.as_bytes());
    *h.finalize().as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_see_the_same_words_and_other_pairs_do_not() {
        let a = safety_words("aaa", "bbb");
        assert_eq!(a, safety_words("bbb", "aaa"));
        assert_eq!(a.split(' ').count(), COUNT);
        assert_ne!(a, safety_words("aaa", "bbc"));
    }

    #[test]
    fn the_list_has_no_duplicates() {
        let mut w = WORDS.to_vec();
        w.sort();
        w.dedup();
        assert_eq!(w.len(), 256);
    }
}
