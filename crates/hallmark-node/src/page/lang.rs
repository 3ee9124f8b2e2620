//! The page's languages: negotiation (`?lang=`, then `Accept-Language` by q-value) and the
//! Fluent catalogues (`locales/*.ftl`, compiled in), with numbers written per locale in Rust
//! (`hallmark_core::display::format_number`) before Fluent sees them.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use hallmark_core::display::NumberStyle;
use std::sync::LazyLock;

/// A language the page is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// English (the default).
    En,
    /// German.
    De,
    /// French.
    Fr,
}

impl Lang {
    /// Every language, in the switcher's order.
    pub const ALL: [Lang; 3] = [Lang::En, Lang::De, Lang::Fr];

    /// The BCP 47 tag.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
            Lang::Fr => "fr",
        }
    }

    /// The language's own name (the switcher's link text).
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::De => "Deutsch",
            Lang::Fr => "Français",
        }
    }

    /// How the language writes numbers.
    pub fn numbers(self) -> NumberStyle {
        match self {
            Lang::En => NumberStyle::EN,
            Lang::De => NumberStyle::DE,
            Lang::Fr => NumberStyle::FR,
        }
    }

    /// The language of a tag's primary subtag (`de-CH` → German), if offered.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or("");
        Lang::ALL
            .into_iter()
            .find(|l| l.tag().eq_ignore_ascii_case(primary))
    }

    fn index(self) -> usize {
        match self {
            Lang::En => 0,
            Lang::De => 1,
            Lang::Fr => 2,
        }
    }
}

/// The page's language: `lang` from the query if it names one offered, else the first
/// offered language of `Accept-Language` in q-value order (ties in the order given; `q=0`
/// refused), else English.
pub fn negotiate(query: Option<&str>, accept_language: Option<&str>) -> Lang {
    if let Some(lang) = query.and_then(|q| {
        q.split('&')
            .filter_map(|p| p.strip_prefix("lang="))
            .find_map(Lang::from_tag)
    }) {
        return lang;
    }
    let Some(header) = accept_language else {
        return Lang::En;
    };
    let mut ranges: Vec<(u16, usize, Lang)> = header
        .split(',')
        .enumerate()
        .filter_map(|(i, item)| {
            let mut parts = item.split(';');
            let lang = Lang::from_tag(parts.next()?)?;
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .next()
                .map_or(Some(1000), parse_q)?;
            (q > 0).then_some((q, i, lang))
        })
        .collect();
    ranges.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    ranges.first().map_or(Lang::En, |r| r.2)
}

/// A q-value in thousandths (`0.8` → 800); `None` if malformed.
fn parse_q(s: &str) -> Option<u16> {
    let v: f32 = s.trim().parse().ok()?;
    (0.0..=1.0)
        .contains(&v)
        .then(|| (v * 1000.0).round() as u16)
}

type Bundle = FluentBundle<FluentResource>;

const SOURCES: [(Lang, &str); 3] = [
    (Lang::En, include_str!("../../locales/en.ftl")),
    (Lang::De, include_str!("../../locales/de.ftl")),
    (Lang::Fr, include_str!("../../locales/fr.ftl")),
];

/// Builds one language's bundle; the errors (syntax, duplicate ids) as text. A bundle is
/// still built from what parsed (tests require none).
pub(crate) fn bundle(lang: Lang, source: &str) -> (Bundle, Vec<String>) {
    let mut errors = Vec::new();
    let resource = FluentResource::try_new(source.to_owned()).unwrap_or_else(|(r, e)| {
        errors.extend(e.iter().map(|e| format!("{e:?}")));
        r
    });
    let id = lang.tag().parse().unwrap_or_default();
    let mut b = FluentBundle::new_concurrent(vec![id]);
    // No U+2068/U+2069 around placeables: the HTML is escaped by the template, and the
    // marks would land in the page's text.
    b.set_use_isolating(false);
    if let Err(e) = b.add_resource(resource) {
        errors.extend(e.iter().map(|e| format!("{e:?}")));
    }
    (b, errors)
}

static CATALOGUES: LazyLock<Vec<Bundle>> = LazyLock::new(|| {
    SOURCES
        .iter()
        .map(|(lang, src)| {
            let (b, errors) = bundle(*lang, src);
            for e in errors {
                tracing::error!(lang = lang.tag(), error = %e, "message catalogue");
            }
            b
        })
        .collect()
});

/// Messages in one language (falling back to English, then to the message id).
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    /// The language.
    pub lang: Lang,
}

impl Tr {
    /// Message `id` without arguments.
    pub fn t(&self, id: &str) -> String {
        self.format(id, None).unwrap_or_else(|| id.to_string())
    }

    /// Message `id` with string arguments.
    pub fn args(&self, id: &str, args: &[(&str, &str)]) -> String {
        let mut a = FluentArgs::new();
        for (k, v) in args {
            a.set(*k, (*v).to_string());
        }
        self.format(id, Some(&a)).unwrap_or_else(|| id.to_string())
    }

    /// Message `id` if some catalogue has it.
    pub fn get(&self, id: &str) -> Option<String> {
        self.format(id, None)
    }

    /// A number as this language writes it.
    pub fn number(&self, n: f64) -> String {
        hallmark_core::display::format_number(n, self.lang.numbers())
    }

    fn format(&self, id: &str, args: Option<&FluentArgs<'_>>) -> Option<String> {
        let bundles = &*CATALOGUES;
        [self.lang.index(), Lang::En.index()]
            .into_iter()
            .filter_map(|i| bundles.get(i))
            .find_map(|b| {
                let pattern = b.get_message(id)?.value()?;
                let mut errors = Vec::new();
                Some(b.format_pattern(pattern, args, &mut errors).into_owned())
            })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn query_beats_header_and_q_values_order_the_header() {
        assert_eq!(negotiate(Some("lang=fr"), Some("de")), Lang::Fr);
        assert_eq!(negotiate(Some("x=1&lang=de-AT"), None), Lang::De);
        assert_eq!(negotiate(Some("lang=xx"), Some("fr")), Lang::Fr);
        assert_eq!(negotiate(None, Some("de-CH, fr;q=0.9, en;q=0.8")), Lang::De);
        assert_eq!(negotiate(None, Some("en;q=0.5, fr;q=0.9")), Lang::Fr);
        assert_eq!(negotiate(None, Some("es, it;q=0.8, de;q=0.1")), Lang::De);
        assert_eq!(negotiate(None, Some("de;q=0, fr;q=0.2")), Lang::Fr);
        assert_eq!(negotiate(None, Some("es, *;q=0.5")), Lang::En);
        assert_eq!(negotiate(None, Some("de;q=abc")), Lang::En);
        assert_eq!(negotiate(None, None), Lang::En);
    }

    #[test]
    fn catalogues_parse_and_have_the_same_messages() {
        let ids = |src: &str| {
            let mut v: Vec<String> = src
                .lines()
                .filter(|l| !l.starts_with('#') && l.contains(" = "))
                .filter_map(|l| l.split(" = ").next().map(str::to_string))
                .collect();
            v.sort();
            v
        };
        let en = ids(SOURCES[0].1);
        for (lang, src) in SOURCES {
            let (_, errors) = bundle(lang, src);
            assert!(errors.is_empty(), "{}: {errors:?}", lang.tag());
            assert_eq!(ids(src), en, "{} differs from en", lang.tag());
        }
    }

    #[test]
    fn messages_are_formatted_without_isolation_marks() {
        let de = Tr { lang: Lang::De };
        let n = de.number(0.0508);
        let s = de.args("unit-kgco2e-per-kwh", &[("n", n.as_str())]);
        assert_eq!(s, "0,0508\u{a0}kg CO₂e/kWh");
        assert_eq!(
            Tr { lang: Lang::Fr }.t("section-carbon"),
            "Empreinte carbone"
        );
        assert_eq!(
            Tr { lang: Lang::En }.t("no-such-message"),
            "no-such-message"
        );
        assert!(Tr { lang: Lang::Fr }.get("category-xyz").is_none());
    }
}
