//! QR codes and labels over real HTTP (issue 16, item 3): `/passports/{id}/qr.png` decoded
//! with a QR decoder (`png` + `rqrr`) gives the passport's GS1 Digital Link URI under the
//! public base URL; `qr.svg` is well-formed, sized in mm, and its modules decode to the same
//! URI; bad options are 400 naming the parameter; unknown ids and drafts 404, a suspended
//! passport 410; `GET /api/v1/labels` lists published passports' URIs by GTIN and lot (on
//! SQLite and PostgreSQL).

use hallmark_core::passport::{Gtin, ProductIdentifier};
use hallmark_testkit as kit;
use kit::{both, Backend, TestNode, BASE_URL};
use reqwest::Method;
use serde_json::{json, Value};

/// Decodes the one QR code in a PNG (any bit depth, greyscale); also answers the PNG's
/// pixels per metre (`pHYs`) and width.
pub fn decode_png(bytes: &[u8]) -> (String, Option<u32>, u32) {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().unwrap();
    let ppm = reader.info().pixel_dims.map(|d| {
        assert_eq!(d.unit, png::Unit::Meter);
        assert_eq!(d.xppu, d.yppu);
        d.xppu
    });
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut buf).unwrap();
    assert_eq!(frame.color_type, png::ColorType::Grayscale);
    let (w, h) = (frame.width as usize, frame.height as usize);
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| buf[y * w + x]);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    let (_, text) = grids[0].decode().unwrap();
    (text, ppm, frame.width)
}

/// Reads the modules back from an SVG drawn by `hallmark_node::qr` (one `M{x} {y}h{run}v1h-{run}z`
/// per run of dark modules) and decodes them.
fn decode_svg(svg: &str, size: usize) -> String {
    let d = svg
        .split(" d=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let mut dark = vec![false; size * size];
    for run in d.split('M').filter(|r| !r.is_empty()) {
        let (xy, rest) = run.split_once('h').unwrap();
        let (x, y) = xy.split_once(' ').unwrap();
        let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
        let len: usize = rest.split('v').next().unwrap().parse().unwrap();
        for i in x..x + len {
            dark[y * size + i] = true;
        }
    }
    // Four pixels per module, so the detector sees clean edges.
    let px = 4;
    let mut img = rqrr::PreparedImage::prepare_from_bitmap(size * px, size * px, |x, y| {
        dark[(y / px) * size + x / px]
    });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1);
    grids[0].decode().unwrap().1
}

/// A minimal well-formedness check: one root, every tag closed in order, attributes quoted.
fn assert_well_formed(svg: &str) {
    let body = svg
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        .expect("XML declaration");
    let mut open: Vec<String> = Vec::new();
    let mut rest = body;
    let mut roots = 0;
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').expect("tag closed") + start;
        let tag = &rest[start + 1..end];
        assert!(!tag.contains('<'), "{tag}");
        assert_eq!(tag.matches('"').count() % 2, 0, "quotes in {tag}");
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(open.pop().as_deref(), Some(name), "closing {name}");
        } else {
            if open.is_empty() {
                roots += 1;
            }
            if !tag.ends_with('/') {
                open.push(tag.split_whitespace().next().unwrap().to_string());
            }
        }
        let text = &rest[..start];
        assert!(!text.contains('&') || text.contains("&amp;") || text.contains("&lt;"));
        rest = &rest[end + 1..];
    }
    assert!(open.is_empty(), "unclosed {open:?}");
    assert_eq!(roots, 1);
}

/// The Digital Link of the test kit's battery draft with this serial.
fn digital_link(serial: &str) -> String {
    ProductIdentifier::new(
        Gtin::parse("09506000134352").unwrap(),
        None,
        Some(serial.to_string()),
    )
    .unwrap()
    .digital_link(BASE_URL)
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qr_png_and_svg_decode_to_the_digital_link() {
    let n = TestNode::new(Backend::Sqlite).start().await;
    let (id, _) = n.publish("QR/0001").await;
    let expected = digital_link("QR/0001");
    assert_eq!(
        expected,
        "http://localhost:8080/01/09506000134352/21/QR%2F0001"
    );

    // PNG with the defaults: EC M, 0.5 mm at 600 dpi = 12 px per module, pHYs 600 dpi.
    let r = n.get(&format!("/passports/{id}/qr.png")).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("content-type"), Some("image/png"));
    assert_eq!(r.header("cache-control"), Some("public, max-age=86400"));
    assert_eq!(r.header("hallmark-passport-status"), Some("published"));
    r.assert_security_headers();
    let (text, ppm, width) = decode_png(&r.body);
    assert_eq!(text, expected);
    assert_eq!(ppm, Some(23_622));
    assert_eq!(width % 12, 0);
    let symbol =
        hallmark_node::qr::Symbol::encode(&expected, hallmark_node::qr::EcLevel::M).unwrap();
    assert_eq!(
        width as usize,
        symbol.size() * 12,
        "4-module quiet zone included"
    );
    // The same bytes as the library draws (what `hallmark labels` writes).
    assert_eq!(r.body, symbol.png(0.5, 600).unwrap());

    // Conditional GET.
    let etag = r.header("etag").unwrap().to_string();
    let again = n
        .call_raw(
            Method::GET,
            &format!("{}/passports/{id}/qr.png", n.public),
            None,
            None,
            None,
        )
        .await;
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    let cached = kit::client()
        .get(format!("{}/passports/{id}/qr.png", n.public))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status().as_u16(), 304);
    let head = kit::client()
        .head(format!("{}/passports/{id}/qr.png", n.public))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status().as_u16(), 200);
    assert_eq!(head.headers()["content-type"], "image/png");

    // Every option, and the urn:uuid: form of the id.
    let r = n
        .get(&format!(
            "/passports/urn:uuid:{id}/qr.png?ec=H&x=0.99&dpi=300"
        ))
        .await;
    assert_eq!(r.status, 200);
    let (text, ppm, width) = decode_png(&r.body);
    assert_eq!(text, expected);
    assert_eq!(ppm, Some(11_811));
    let h = hallmark_node::qr::Symbol::encode(&expected, hallmark_node::qr::EcLevel::H).unwrap();
    // 0.99 mm at 300 dpi: 11.69 px, 11 px (0.931 mm) keeps within 0.990 mm.
    assert_eq!(width as usize, h.size() * 11);

    // SVG: well-formed, sized in mm, crisp edges, the modules decode to the URI.
    let r = n.get(&format!("/passports/{id}/qr.svg?x=0.4")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("image/svg+xml"));
    assert_eq!(r.header("cache-control"), Some("public, max-age=86400"));
    let svg = String::from_utf8(r.body).unwrap();
    assert_well_formed(&svg);
    let size = symbol.size();
    let mm = format!("{:.3}", size as f64 * 0.4);
    let mm = mm.trim_end_matches('0').trim_end_matches('.');
    assert!(
        svg.contains(&format!("width=\"{mm}mm\" height=\"{mm}mm\"")),
        "{svg}"
    );
    assert!(svg.contains(&format!("viewBox=\"0 0 {size} {size}\"")));
    assert!(svg.contains("shape-rendering=\"crispEdges\""));
    assert!(svg.contains(&format!("<title>{expected}</title>")));
    assert_eq!(decode_svg(&svg, size), expected);

    n.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_options_are_400_unknown_and_drafts_404_suspended_410() {
    let n = TestNode::new(Backend::Sqlite).start().await;
    let (id, _) = n.publish("QR-0002").await;
    for (query, param) in [
        ("ec=Z", "`ec`"),
        ("x=0.3", "`x`"),
        ("x=1.5", "`x`"),
        ("x=abc", "`x`"),
        ("dpi=10", "`dpi`"),
        ("dpi=5000", "`dpi`"),
        ("size=3", "size"),
    ] {
        for ext in ["png", "svg"] {
            let r = n.get(&format!("/passports/{id}/qr.{ext}?{query}")).await;
            let p = r.problem(400, "bad-request");
            let detail = p["detail"].as_str().unwrap();
            assert!(detail.contains(param), "{query}: {detail}");
        }
    }
    // x out of range names the GS1 range.
    let r = n.get(&format!("/passports/{id}/qr.png?x=2")).await;
    let p = r.problem(400, "bad-request");
    assert!(p["detail"].as_str().unwrap().contains("0.396"));

    // Unknown and malformed ids: 404, like /passports/{id}.
    for path in [
        "/passports/0190f5a8-8c3b-7000-8000-000000000000/qr.png",
        "/passports/not-a-uuid/qr.svg",
    ] {
        n.get(path).await.problem(404, "not-found");
    }

    // A draft is not served.
    let draft = kit::battery_draft("QR-DRAFT");
    let r = n
        .call(
            Method::POST,
            "/api/v1/passports",
            Some(&kit::basic()),
            Some(&draft),
        )
        .await;
    assert_eq!(r.status, 201);
    let draft_id = r.json()["id"].as_str().unwrap().to_string();
    n.get(&format!("/passports/{draft_id}/qr.png"))
        .await
        .problem(404, "not-found");

    // Suspended: 410 with the reason, as /passports/{id}; served again after resume.
    let r = n
        .call(
            Method::POST,
            &format!("/api/v1/passports/{id}/suspend"),
            Some(&kit::basic()),
            Some(&json!({ "reason": "label recall" })),
        )
        .await;
    assert_eq!(r.status, 200);
    let gone = n.get(&format!("/passports/{id}/qr.svg")).await;
    let p = gone.problem(410, "gone");
    assert!(
        p["detail"].as_str().unwrap().contains("label recall"),
        "{p}"
    );
    assert_eq!(gone.header("hallmark-passport-status"), Some("suspended"));
    n.admin(Method::POST, &format!("/api/v1/passports/{id}/resume"))
        .await;
    assert_eq!(n.get(&format!("/passports/{id}/qr.svg")).await.status, 200);

    n.stop().await;
}

/// `GET /api/v1/labels{query}` with the node's read key, expecting 200.
async fn labels(n: &kit::Node, query: &str) -> Value {
    let r = n
        .call(
            Method::GET,
            &format!("/api/v1/labels{query}"),
            Some(n.bearer()),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

both!(admin_labels_list_published_passports_by_gtin_and_lot);

async fn admin_labels_list_published_passports_by_gtin_and_lot(backend: Backend) {
    let n = TestNode::new(backend)
        .api_key("read", "labels")
        .start()
        .await;
    let (a, _) = n.publish("LBL-1").await;
    let (b, _) = n.publish("LBL-2").await;
    // An item with a lot.
    let mut with_lot = kit::battery_draft("LBL-3");
    with_lot["uniqueProductIdentifier"]["lot"] = json!("LOT-7");
    let r = n
        .call(
            Method::POST,
            "/api/v1/passports",
            Some(&kit::basic()),
            Some(&with_lot),
        )
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let c = r.json()["id"].as_str().unwrap().to_string();
    n.admin(Method::POST, &format!("/api/v1/passports/{c}/publish"))
        .await;
    // Archived passports get no new labels.
    n.call(
        Method::POST,
        &format!("/api/v1/passports/{b}/archive"),
        Some(&kit::basic()),
        Some(&json!({})),
    )
    .await;

    let all = labels(&n, "?gtin=09506000134352").await;
    let ids: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [a.as_str(), c.as_str()]);
    assert_eq!(all["next"], Value::Null);
    let first = &all["items"][0];
    assert_eq!(first["digitalLink"], digital_link("LBL-1"));
    assert_eq!(first["elementString"], "(01)09506000134352(21)LBL-1");
    assert_eq!(first["granularity"], "item");
    assert_eq!(first["status"], "published");
    let lot = labels(&n, "?gtin=9506000134352&lot=LOT-7").await;
    assert_eq!(lot["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        lot["items"][0]["digitalLink"],
        "http://localhost:8080/01/09506000134352/10/LOT-7/21/LBL-3"
    );
    assert_eq!(
        lot["items"][0]["elementString"],
        "(01)09506000134352(10)LOT-7(21)LBL-3"
    );
    let other = labels(&n, "?gtin=4006381333931").await;
    assert_eq!(other["items"], json!([]));
    let paged = labels(&n, "?limit=1").await;
    assert_eq!(paged["items"].as_array().unwrap().len(), 1);
    assert!(paged["next"].is_string());

    let bad = n
        .call(
            Method::GET,
            "/api/v1/labels?gtin=123",
            Some(n.bearer()),
            None,
        )
        .await;
    let p = bad.problem(400, "bad-request");
    assert!(p["detail"].as_str().unwrap().starts_with("gtin"), "{p}");
    let anonymous = n.call(Method::GET, "/api/v1/labels", None, None).await;
    assert_eq!(anonymous.status, 401);

    n.stop().await;
}
