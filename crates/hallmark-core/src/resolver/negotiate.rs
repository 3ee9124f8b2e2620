//! Choosing among links of one type by the client's `Accept` and `Accept-Language` (GS1
//! resolver 2.6.3): media ranges and language ranges with their q-values.

use super::linkset::{Link, VC};

/// Media ranges and language ranges a client accepts, with their q-values, as sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Preferences {
    media: Vec<(String, f32)>,
    languages: Vec<(String, f32)>,
}

/// How well a media type matches: (q-value, specificity: 3 exact, 2 alias, 1 `type/*`,
/// 0 `*/*` or no `Accept` at all).
type MediaMatch = (f32, u8);

impl Preferences {
    /// Reads `Accept` and `Accept-Language` (either may be absent). Unreadable members are
    /// skipped; a missing or unreadable `q` counts as 1.
    pub fn parse(accept: Option<&str>, accept_language: Option<&str>) -> Self {
        Preferences {
            media: accept.map(ranges).unwrap_or_default(),
            languages: accept_language.map(ranges).unwrap_or_default(),
        }
    }

    /// Whether the client asks for `media_type` by name (exactly, through an alias, or as
    /// `type/*`) with a q-value above 0 — `*/*` alone does not count.
    pub fn names(&self, media_type: &str) -> bool {
        let (q, specificity) = self.media_match(Some(media_type));
        q > 0.0 && specificity > 0
    }

    /// Whether the client names exactly `media_type` (no wildcard, no alias) with a q-value
    /// above 0.
    pub fn names_exactly(&self, media_type: &str) -> bool {
        self.media
            .iter()
            .any(|(range, q)| *q > 0.0 && range.eq_ignore_ascii_case(media_type))
    }

    /// How well `media_type` matches: the most specific range that covers it decides.
    fn media_match(&self, media_type: Option<&str>) -> MediaMatch {
        if self.media.is_empty() {
            return (1.0, 0);
        }
        let mut best: Option<MediaMatch> = None;
        for (range, q) in &self.media {
            let specificity = match media_type {
                _ if range == "*/*" => Some(0),
                Some(t) if range.eq_ignore_ascii_case(t) => Some(3),
                Some(t) if is_alias(range, t) => Some(2),
                Some(t) => range
                    .strip_suffix("/*")
                    .filter(|major| {
                        t.split('/')
                            .next()
                            .is_some_and(|m| m.eq_ignore_ascii_case(major))
                    })
                    .map(|_| 1),
                None => None,
            };
            if let Some(s) = specificity {
                if best.is_none_or(|(_, b)| s > b) {
                    best = Some((*q, s));
                }
            }
        }
        best.unwrap_or((0.0, 0))
    }

    /// The q-value of the best language range matching one of `hreflang` (`de` matches
    /// `de-DE` and the other way round; `*` matches all); 0 when none does or the link has
    /// no language.
    fn language_q(&self, hreflang: &[String]) -> f32 {
        let mut best = 0.0_f32;
        for (range, q) in &self.languages {
            let matches = range == "*"
                || hreflang.iter().any(|tag| {
                    tag.eq_ignore_ascii_case(range)
                        || is_prefix_tag(range, tag)
                        || is_prefix_tag(tag, range)
                });
            if matches && *q > best {
                best = *q;
            }
        }
        best
    }
}

/// Whether `accepted` names `link_type` by another name: `application/vc+ld+json` (the
/// media type the node serves the Data Integrity form as) for `application/vc`.
fn is_alias(accepted: &str, link_type: &str) -> bool {
    link_type.eq_ignore_ascii_case(VC) && accepted.eq_ignore_ascii_case("application/vc+ld+json")
}

/// Whether `prefix` is a language tag that `tag` extends (`de` of `de-DE`).
fn is_prefix_tag(prefix: &str, tag: &str) -> bool {
    tag.len() > prefix.len()
        && tag.as_bytes().get(prefix.len()) == Some(&b'-')
        && tag[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// `a;q=0.5, b` → `[(a, 0.5), (b, 1.0)]`, other parameters dropped, q clamped to 0..=1.
fn ranges(header: &str) -> Vec<(String, f32)> {
    header
        .split(',')
        .filter_map(|member| {
            let mut parts = member.split(';');
            let range = parts.next()?.trim();
            if range.is_empty() {
                return None;
            }
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .filter(|q| q.is_finite())
                .map_or(1.0, |q| q.clamp(0.0, 1.0));
            Some((range.to_ascii_lowercase(), q))
        })
        .collect()
}

/// The link of `links` the client prefers: the best media match (q-value, then how
/// specifically it was named), then the best language match; the first in order on a tie.
/// When the client accepts none of their media types, the first link (a resolver answers
/// rather than refuses). `None` only for no links.
pub fn choose<'a>(links: &'a [Link], prefs: &Preferences) -> Option<&'a Link> {
    let mut best: Option<(&Link, (f32, u8, f32))> = None;
    for link in links {
        let (q, specificity) = prefs.media_match(link.media_type.as_deref());
        let score = (q, specificity, prefs.language_q(&link.hreflang));
        let better = match &best {
            None => true,
            Some((_, b)) => {
                score.0 > b.0
                    || (score.0 == b.0 && score.1 > b.1)
                    || (score.0 == b.0 && score.1 == b.1 && score.2 > b.2)
            }
        };
        if better {
            best = Some((link, score));
        }
    }
    best.map(|(link, _)| link)
}

/// The link of `links` the client names by media type (not through `*/*`), chosen as
/// [`choose`] does among those; `None` when it names none of them.
pub fn choose_named<'a>(links: &'a [Link], prefs: &Preferences) -> Option<&'a Link> {
    let named: Vec<Link> = links
        .iter()
        .filter(|l| l.media_type.as_deref().is_some_and(|t| prefs.names(t)))
        .cloned()
        .collect();
    let chosen = choose(&named, prefs)?;
    links.iter().find(|l| *l == chosen)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::super::linkset::{TEXT_HTML, VC_JWT};
    use super::*;

    fn links() -> Vec<Link> {
        let mut html_en = Link::new("https://n.example/en", "page", TEXT_HTML);
        html_en.hreflang = vec!["en".into()];
        let mut html_de = Link::new("https://n.example/de", "Seite", TEXT_HTML);
        html_de.hreflang = vec!["de".into()];
        vec![
            html_en,
            html_de,
            Link::new("https://n.example/vc", "vc", VC),
            Link::new("https://n.example/jwt", "jwt", VC_JWT),
        ]
    }

    fn pick(accept: Option<&str>, lang: Option<&str>) -> String {
        let links = links();
        choose(&links, &Preferences::parse(accept, lang))
            .unwrap()
            .href
            .clone()
    }

    #[test]
    fn media_type_then_language_then_order() {
        assert_eq!(pick(None, None), "https://n.example/en");
        assert_eq!(pick(Some("*/*"), None), "https://n.example/en");
        assert_eq!(pick(Some(VC_JWT), None), "https://n.example/jwt");
        assert_eq!(pick(Some("application/vc"), None), "https://n.example/vc");
        assert_eq!(
            pick(Some("application/vc+ld+json"), None),
            "https://n.example/vc"
        );
        assert_eq!(
            pick(
                Some("text/html,application/xhtml+xml,*/*;q=0.8"),
                Some("de-DE,de;q=0.9,en;q=0.5")
            ),
            "https://n.example/de"
        );
        assert_eq!(pick(Some("text/*"), Some("en")), "https://n.example/en");
        assert_eq!(
            pick(Some("text/html;q=0.1, application/vc+jwt"), None),
            "https://n.example/jwt"
        );
        assert_eq!(pick(Some("image/png"), None), "https://n.example/en");
    }

    #[test]
    fn only_named_types_count_as_a_choice() {
        let links = links();
        let named = |accept: &str| {
            choose_named(&links, &Preferences::parse(Some(accept), None)).map(|l| l.href.clone())
        };
        assert_eq!(named("*/*"), None);
        assert_eq!(named("image/png, */*;q=0.1"), None);
        assert_eq!(
            named("application/vc+jwt").as_deref(),
            Some("https://n.example/jwt")
        );
        assert_eq!(
            named("text/html, */*").as_deref(),
            Some("https://n.example/en")
        );
        assert_eq!(named("text/html;q=0"), None);
    }
}
