//! Search through the API: English stemming, Korean and Chinese bigrams, mixed scripts, field
//! boosts, filters and facets, highlights, read-your-writes, and visibility enforced inside
//! search (hits, totals, facets and snippets).

mod common;

use std::time::{Duration, Instant};

use actix_web::http::Method;
use common::{PASSWORD, TestApp};
use serde_json::{Value, json};

/// Creates a profile as the operator and waits until it is searchable.
async fn profile(app: &TestApp, body: Value) -> String {
    app.create_indexed("/api/v1/faculty", &body).await
}

async fn need(app: &TestApp, body: Value) -> String {
    app.create_indexed("/api/v1/needs", &body).await
}

async fn search(app: &TestApp, token: Option<&str>, query: &str) -> Value {
    let res = app
        .caller(token)
        .get(&format!("/api/v1/search?{query}"))
        .await;
    res.expect(200);
    res.json()
}

fn q(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The one hit's id.
fn only(results: &Value) -> String {
    let found = ids(results);
    assert_eq!(found.len(), 1, "{results}");
    found[0].clone()
}

fn ids(results: &Value) -> Vec<String> {
    common::each(results, "items", |i| i["id"].as_str().unwrap().to_owned())
}

#[actix_web::test]
async fn english_korean_chinese_and_mixed_text_are_searchable() {
    let app = TestApp::spawn().await;
    let nycu = app.org_id("university", "NYCU", "TW").await;
    let snu = app.org_id("university", "SNU", "KR").await;
    let en = profile(&app, json!({"university_id": nycu, "name": "Alice Wang", "department": "Computer Science",
        "research_interests": "Scheduling deep neural network training on shared GPU clusters", "keywords": ["distributed systems"]})).await;
    let ko = profile(&app, json!({"university_id": snu, "name": "Kim Min-jun", "local_name": "김민준",
        "research_interests": "GPU 클러스터 기반 대규모 언어 모델 학습과 추론 최적화", "keywords": ["딥러닝", "분산 학습"]})).await;
    let zh = profile(
        &app,
        json!({"university_id": nycu, "name": "Lin Mei-Ling", "local_name": "林美玲",
        "research_interests": "先進製程良率分析與半導體缺陷檢測", "keywords": ["半導體", "良率"]}),
    )
    .await;

    // English: lowercased, stemmed, stop words ignored.
    assert_eq!(
        only(&search(&app, None, &format!("type=faculty&q={}", q("the Networks"))).await),
        en
    );
    assert_eq!(
        only(&search(&app, None, "type=faculty&q=trained").await),
        en
    );
    // Korean finds Korean, Chinese finds Chinese.
    assert_eq!(
        only(&search(&app, None, &format!("type=faculty&q={}", q("언어 모델"))).await),
        ko
    );
    assert_eq!(
        only(&search(&app, None, &format!("type=faculty&q={}", q("딥러닝"))).await),
        ko
    );
    assert_eq!(
        only(&search(&app, None, &format!("type=faculty&q={}", q("半導體缺陷"))).await),
        zh
    );
    assert_eq!(
        only(&search(&app, None, &format!("type=faculty&q={}", q("林美玲"))).await),
        zh
    );
    // Mixed scripts. Every word must match by default: only the Korean profile has them all.
    let all = search(
        &app,
        None,
        &format!("type=faculty&q={}", q("GPU 클러스터 학습")),
    )
    .await;
    assert_eq!(ids(&all), vec![ko.clone()]);
    assert_eq!(all["operator"], "and");
    // No profile has every word of this one (none says "LLM"), so it is answered with any
    // word, and says so: the Korean profile first, then the English one (GPU), not the
    // Chinese one.
    let mixed_query = format!("type=faculty&q={}", q("GPU 클러스터 기반 LLM 학습"));
    let mixed = search(&app, None, &mixed_query).await;
    assert_eq!(mixed["operator"], "or");
    assert_eq!(ids(&mixed)[0], ko);
    assert!(ids(&mixed).contains(&en));
    assert!(!ids(&mixed).contains(&zh));
    // Asked for explicitly, `and` stays strict and `or` gives the same as above.
    let strict = search(&app, None, &format!("{mixed_query}&operator=and")).await;
    assert_eq!(
        (strict["total"].as_u64(), strict["operator"].as_str()),
        (Some(0), Some("and"))
    );
    let any = search(&app, None, &format!("{mixed_query}&operator=or")).await;
    assert_eq!(ids(&any), ids(&mixed));
    // `and` narrows where both profiles have some of the words: only the English profile
    // schedules GPUs; with `or` the Korean GPU profile follows it.
    let narrow = search(&app, None, "type=faculty&q=GPU+scheduling").await;
    assert_eq!(ids(&narrow), vec![en.clone()]);
    let wide = search(&app, None, "type=faculty&q=GPU+scheduling&operator=or").await;
    assert_eq!(ids(&wide), vec![en.clone(), ko.clone()]);
    assert_eq!(wide["total"], 2);
    // Highlights mark the matching words, escaped.
    let hit = &search(&app, None, &format!("type=faculty&q={}", q("半導體"))).await["items"][0];
    assert!(
        hit["highlights"]["body"]
            .as_str()
            .unwrap()
            .contains("<b>半導體</b>"),
        "{hit}"
    );
    assert_eq!(hit["title"], "Lin Mei-Ling · 林美玲");
}

#[actix_web::test]
async fn keywords_and_titles_outrank_bodies_and_publications_count() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "KAIST", "KR").await;
    let body = profile(&app, json!({"university_id": uni, "name": "Body Match",
        "bio": "Some work touches photonics among many other subjects in materials, devices and optics labs."})).await;
    let keyword = profile(
        &app,
        json!({"university_id": uni, "name": "Keyword Match", "keywords": ["photonics"],
        "bio": "Works on devices and materials in several labs across the institute."}),
    )
    .await;
    let publication = profile(&app, json!({"university_id": uni, "name": "Paper Match",
        "publications": [{"title": "Silicon photonics interconnects for AI accelerators", "year": 2024}]})).await;
    let res = search(&app, None, "type=faculty&q=photonics").await;
    assert_eq!(res["total"], 3);
    assert_eq!(ids(&res)[0], keyword);
    assert!(ids(&res).contains(&body) && ids(&res).contains(&publication));

    // Publications are indexed without positions: a phrase matches there when all its words
    // occur, in any order; Korean and Chinese words (phrases of bigrams) are found there too.
    let korean = profile(&app, json!({"university_id": uni, "name": "Pak Ji-hoon",
        "publications": [{"title": "GPU 클러스터 기반 분산 학습", "venue": "先進封裝研討會", "year": 2025}]})).await;
    let q = |s: &str| format!("type=faculty&q={}", q(s));
    assert_eq!(
        ids(&search(&app, None, &q("\"silicon photonics\"")).await),
        vec![publication.clone()]
    );
    assert_eq!(
        ids(&search(&app, None, &q("\"photonics silicon\"")).await),
        vec![publication]
    );
    // Bodies keep positions: both profiles' bios have both words, only one in this order.
    let exact = search(&app, None, &q("\"materials devices\"")).await;
    assert_eq!(ids(&exact), vec![body]);
    assert!(!ids(&exact).contains(&keyword));
    assert_eq!(
        ids(&search(&app, None, &q("클러스터 학습")).await),
        vec![korean.clone()]
    );
    assert_eq!(ids(&search(&app, None, &q("先進封裝")).await), vec![korean]);
}

#[actix_web::test]
async fn filters_facets_and_pages() {
    let app = TestApp::spawn().await;
    let tw = app.org_id("university", "NTU", "TW").await;
    let kr = app.org_id("university", "POSTECH", "KR").await;
    for (uni, name, dept, kw, avail) in [
        (
            &tw,
            "A",
            "Electrical / Computer Eng.",
            "chip design",
            "consulting",
        ),
        (&tw, "B", "Physics", "chip design", "joint_lab"),
        (&kr, "C", "Physics", "Chip Design", "consulting"),
        (&kr, "D", "Chemistry", "catalysis", "licensing"),
    ] {
        profile(&app, json!({"university_id": uni, "name": name, "department": dept, "keywords": [kw], "availability": [avail],
            "research_interests": "semiconductor research"})).await;
    }
    let all = search(&app, None, "type=faculty&q=semiconductor").await;
    assert_eq!(all["total"], 4);
    let facet = |r: &Value, name: &str| -> Vec<(String, u64)> {
        r["facets"][name]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["value"].as_str().unwrap().to_owned(),
                    v["count"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        facet(&all, "keyword"),
        [("chip design".to_owned(), 3), ("catalysis".to_owned(), 1)]
    );
    assert_eq!(facet(&all, "department")[0], ("Physics".to_owned(), 2));
    assert!(facet(&all, "department").contains(&("Electrical / Computer Eng.".to_owned(), 1)));
    let unis = all["facets"]["university"].as_array().unwrap();
    assert_eq!(unis.len(), 2);
    assert!(unis.iter().any(|u| u["label"] == "NTU" && u["count"] == 2));
    // A rename reaches the labels as it reaches the index: shortly after.
    app.operator()
        .if_match("\"1\"")
        .patch(
            &format!("/api/v1/organizations/{tw}"),
            &json!({"name": "National Taiwan University"}),
        )
        .await
        .expect(200);
    let started = Instant::now();
    loop {
        let now = search(&app, None, "type=faculty&q=semiconductor").await;
        let labels: Vec<Value> = now["facets"]["university"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["label"].clone())
            .collect();
        if labels.contains(&json!("National Taiwan University")) {
            assert!(labels.contains(&json!("POSTECH")), "{labels:?}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the new name is not shown after 5 s: {labels:?}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }

    let names = |r: &Value| -> Vec<String> {
        let mut v: Vec<String> = r["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["title"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        names(
            &search(
                &app,
                None,
                &format!("type=faculty&q=semiconductor&university_id={tw}")
            )
            .await
        ),
        ["A", "B"]
    );
    assert_eq!(
        names(&search(&app, None, "type=faculty&q=semiconductor&country=kr").await),
        ["C", "D"]
    );
    assert_eq!(
        names(
            &search(
                &app,
                None,
                "type=faculty&q=semiconductor&department=physics"
            )
            .await
        ),
        ["B", "C"]
    );
    assert_eq!(
        names(&search(&app, None, "type=faculty&collaboration_type=consulting").await),
        ["A", "C"]
    );
    assert_eq!(
        names(
            &search(
                &app,
                None,
                &format!("type=faculty&keyword={}", q("CHIP design"))
            )
            .await
        ),
        ["A", "B", "C"]
    );
    // Facets count every hit, not just the page.
    let page = search(&app, None, "type=faculty&q=semiconductor&limit=1&offset=1").await;
    assert_eq!(
        (
            page["total"].as_u64(),
            page["items"].as_array().unwrap().len()
        ),
        (Some(4), 1)
    );
    assert_eq!(facet(&page, "keyword")[0], ("chip design".to_owned(), 3));
    let first = search(&app, None, "type=faculty&q=semiconductor&limit=1").await;
    assert_ne!(ids(&first), ids(&page));

    // Organization changes reach the index: moving POSTECH's country moves its profiles.
    let etag = app
        .anonymous()
        .get(&format!("/api/v1/organizations/{kr}"))
        .await
        .header("etag")
        .unwrap();
    app.operator()
        .if_match(&etag)
        .patch(
            &format!("/api/v1/organizations/{kr}"),
            &json!({"country": "JP"}),
        )
        .await
        .expect(200);
    let deadline = Instant::now() + Duration::from_secs(5);
    while search(&app, None, "type=faculty&country=JP").await["total"] != 2 {
        assert!(Instant::now() < deadline, "organization change not indexed");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn bad_queries_and_parameters_are_400_problems() {
    let app = TestApp::spawn().await;
    for query in [
        format!("type=faculty&q={}", q("(unbalanced")),
        format!("type=faculty&q={}", q("nosuchfield:x")),
        "q=x".to_owned(),
        "type=centre&q=x".to_owned(),
        "type=faculty&limit=0".to_owned(),
        "type=faculty&limit=101".to_owned(),
        "type=faculty&offset=-1".to_owned(),
        "type=faculty&offset=10001".to_owned(),
        "type=faculty&status=open".to_owned(),
        "type=need&university_id=0190c2a4-0000-7000-8000-000000000000".to_owned(),
        "type=faculty&university_id=nope".to_owned(),
        "type=faculty&country=Taiwan".to_owned(),
        "type=faculty&colour=red".to_owned(),
        "type=faculty&q=x&operator=xor".to_owned(),
    ] {
        let res = app
            .anonymous()
            .get(&format!("/api/v1/search?{query}"))
            .await;
        res.expect(400);
    }
    let res = app
        .anonymous()
        .get(&format!(
            "/api/v1/search?type=faculty&q={}",
            q("(unbalanced")
        ))
        .await;
    assert_eq!(res.json()["errors"][0]["field"], "q");
}

/// Whatever the query text, the answer is a result or a 400 problem naming `q`, never a 500:
/// every field of the index (the bookkeeping ones too) in every form the grammar knows, and
/// text that breaks the grammar, on every type of search.
#[actix_web::test]
async fn every_query_text_is_a_result_or_a_400_problem() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "NTU", "TW").await;
    let company = app.org_id("company", "Acer", "TW").await;
    profile(
        &app,
        json!({"university_id": uni, "name": "Ada Chen", "research_interests": "GPU clusters",
               "keywords": ["photonics"], "visibility": "public"}),
    )
    .await;
    need(
        &app,
        json!({"company_id": company, "title": "GPU scheduling", "summary": "Clusters",
               "status": "open", "visibility": "public"}),
    )
    .await;
    let fields = [
        "title",
        "keywords",
        "body",
        "publications",
        "id",
        "kind",
        "org",
        "country",
        "department",
        "status",
        "visibility",
        "collaboration",
        "keyword",
        "invited",
        "department_label",
        "participant",
        "nosuch",
    ];
    let forms = [
        "{f}:*",
        "{f}:gpu",
        "{f}:[a TO b]",
        "{f}:{a TO *}",
        "{f}:>a",
        "{f}:/g.*/",
        "{f}: IN [a b]",
        "{f}:\"gpu clusters\"",
        "{f}:\"gpu clu\"*",
        "{f}:(gpu OR x)",
        "{f}:gpu^2",
        "{f}:\"gpu clusters\"~2",
        "-{f}:x gpu",
    ];
    let mut texts: Vec<String> = fields
        .iter()
        .flat_map(|f| forms.iter().map(move |form| form.replace("{f}", f)))
        .collect();
    texts.extend(
        [
            "*",
            "* -gpu",
            "NOT gpu",
            "gpu AND",
            "OR",
            "AND OR NOT",
            "\"",
            "\\",
            "(",
            ")",
            "^",
            "~",
            ":",
            "a:b:c",
            "+-gpu",
            "\"unterminated",
            "-",
            "--gpu",
            "gpu^-1",
            "gpu^1e40",
            "gpu^abc",
            "gpu~",
            "\"\"",
            "()",
            "(())",
            "gpu:",
            ":gpu",
            "[",
            "]",
            "{",
            "}",
            "gpu TO",
            "IN [",
            "!",
            "&&",
            "||",
            "🚀 GPU",
            "分散式 訓練",
            "-*",
            "title:",
            "title:\"\"",
            "\u{0}",
            "a\u{0}b",
            "NOT NOT gpu",
            "+*",
        ]
        .map(String::from),
    );
    let deep = |n: usize| format!("{}gpu{}", "(".repeat(n), ")".repeat(n));
    texts.extend([
        deep(10_000),
        deep(50),
        "NOT ".repeat(400) + "gpu",
        "gpu ".repeat(400),
    ]);
    for kind in ["faculty", "need", "center"] {
        for text in &texts {
            for operator in ["and", "or"] {
                let path = format!(
                    "/api/v1/search?type={kind}&operator={operator}&q={}",
                    q(text)
                );
                let res = app.anonymous().get(&path).await;
                match res.status.as_u16() {
                    200 => {}
                    400 => {
                        let p = res.json();
                        assert_eq!(p["code"], "invalid_query", "{text}: {p}");
                        assert_eq!(p["errors"][0]["field"], "q", "{text}: {p}");
                    }
                    other => panic!("{kind} {text:?}: {other} {}", res.text()),
                }
            }
        }
    }
    // The bounds are named in the problem.
    let res = app
        .anonymous()
        .get(&format!("/api/v1/search?type=faculty&q={}", q(&deep(50))))
        .await;
    res.expect(400);
    let p = res.json();
    assert_eq!(p["errors"][0]["code"], "too_deeply_nested", "{p}");
    assert!(
        p["errors"][0]["message"].as_str().unwrap().contains("10"),
        "{p}"
    );
    for (text, code) in [
        ("body:*", "unsupported_query"),
        ("invited:x", "unknown_field"),
    ] {
        let res = app
            .anonymous()
            .get(&format!("/api/v1/search?type=need&q={}", q(text)))
            .await;
        res.expect(400);
        assert_eq!(res.json()["errors"][0]["code"], code, "{text}");
    }
}

#[actix_web::test]
async fn writes_become_searchable_and_deletes_disappear() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "NTHU", "TW").await;
    // Without wait_for: searchable shortly after (the indexer commits every 250 ms).
    let res = app
        .operator()
        .post(
            "/api/v1/faculty",
            &json!({"university_id": uni, "name": "Fresh", "keywords": ["metamaterials"]}),
        )
        .await;
    let id = res.id();
    let started = Instant::now();
    while search(&app, None, "type=faculty&q=metamaterials").await["total"] != 1 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "not searchable after 5 s"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    // Updates replace the document: the old keyword is gone, the new one found.
    let path = format!("/api/v1/faculty/{id}");
    app.operator()
        .if_match("\"1\"")
        .patch(
            &format!("{path}?refresh=wait_for"),
            &json!({"keywords": ["spintronics"]}),
        )
        .await
        .expect(200);
    assert_eq!(
        search(&app, None, "type=faculty&q=metamaterials").await["total"],
        0
    );
    assert_eq!(
        search(&app, None, "type=faculty&q=spintronics").await["total"],
        1
    );
    // Deletes drop it; restore brings it back.
    app.operator()
        .delete(&format!("{path}?refresh=wait_for"))
        .await
        .expect(204);
    assert_eq!(
        search(&app, None, "type=faculty&q=spintronics").await["total"],
        0
    );
    app.operator()
        .request(
            Method::POST,
            &format!("{path}/restore?refresh=wait_for"),
            None,
        )
        .await
        .expect(200);
    assert_eq!(
        search(&app, None, "type=faculty&q=spintronics").await["total"],
        1
    );
    // Imports too.
    let res = app
        .import_indexed(
            &uni,
            "text/csv",
            "external_id,name,keywords\nX-1,Imported,graphene;二維材料\n".to_owned(),
        )
        .await;
    assert_eq!(res.header("search-refresh").as_deref(), Some("done"));
    assert_eq!(
        search(&app, None, &format!("type=faculty&q={}", q("二維材料"))).await["total"],
        1
    );
    // Readiness reports the index position.
    let ready = app.anonymous().get("/readyz").await.json();
    assert_eq!(ready["search"]["lag"], 0, "{ready}");
    assert!(ready["search"]["applied"].as_i64().unwrap() >= 5);
}

#[actix_web::test]
async fn search_never_shows_what_the_caller_may_not_see() {
    let app = TestApp::spawn().await;
    let nvidia = app.org_id("company", "NVIDIA", "US").await;
    let amd = app.org_id("company", "AMD", "US").await;
    let uni = app.org_id("university", "NYCU", "TW").await;
    let staff = app.member_token(&nvidia, "staff").await;
    let rival = app.member_token(&amd, "staff").await;
    let prof = |name: &'static str| {
        let (app, uni) = (&app, uni.clone());
        async move {
            let token = app.member_token(&uni, "faculty").await;
            let me = app.as_(&token).get("/api/v1/me").await.json();
            let id = profile(
                app,
                json!({"university_id": uni, "name": name, "owner_user_id": me["user"]["id"]}),
            )
            .await;
            (token, id)
        }
    };
    let (invited, invited_profile) = prof("Invited").await;
    let (uninvited, _) = prof("Uninvited").await;
    app.create_user("nobody@example.com", PASSWORD, false).await;
    let stranger = app.login("nobody@example.com", PASSWORD).await;

    let public = need(&app, json!({"company_id": nvidia, "title": "Public interconnect study", "status": "open", "visibility": "public",
        "keywords": ["interconnect"], "summary": "Optical interconnect for racks"})).await;
    let secret = need(&app, json!({"company_id": nvidia, "title": "Confidential interconnect roadmap", "status": "open",
        "visibility": "confidential", "keywords": ["interconnect", "codename-kestrel"], "summary": "Kestrel interconnect for the next GPU"})).await;
    let draft = need(&app, json!({"company_id": nvidia, "title": "Draft interconnect idea", "status": "draft", "visibility": "public",
        "keywords": ["interconnect"]})).await;
    let members = need(&app, json!({"company_id": nvidia, "title": "Members interconnect survey", "status": "open", "visibility": "members",
        "keywords": ["interconnect"]})).await;
    profile(&app, json!({"university_id": uni, "name": "Hidden interconnect expert", "visibility": "members", "keywords": ["interconnect"]})).await;

    let sees = |token: Option<String>| {
        let (app, secret) = (&app, secret.clone());
        async move {
            let r = search(app, token.as_deref(), "type=need&q=interconnect").await;
            let mut found = ids(&r);
            found.sort();
            let text = r.to_string();
            // Totals, facets and snippets agree with the hits.
            assert_eq!(r["total"].as_u64().unwrap() as usize, found.len());
            let kw = r["facets"]["keyword"].as_array().unwrap();
            let interconnect = kw
                .iter()
                .find(|v| v["value"] == "interconnect")
                .map(|v| v["count"].as_u64().unwrap())
                .unwrap_or(0);
            assert_eq!(interconnect as usize, found.len());
            let leaks = text.contains("kestrel") || text.contains("Kestrel");
            assert_eq!(
                leaks,
                found.contains(&secret),
                "the secret shows only with its hit: {text}"
            );
            let faculty =
                search(app, token.as_deref(), "type=faculty&q=interconnect").await["total"]
                    .as_u64()
                    .unwrap();
            (found, faculty)
        }
    };
    let mut expect_all = vec![
        public.clone(),
        secret.clone(),
        draft.clone(),
        members.clone(),
    ];
    expect_all.sort();
    let mut public_only = vec![public.clone()];
    public_only.sort();
    let mut signed_in = vec![public.clone(), members.clone()];
    signed_in.sort();
    let mut invited_sees = vec![public.clone(), secret.clone(), members.clone()];
    invited_sees.sort();

    assert_eq!(sees(None).await, (public_only, 0));
    assert_eq!(sees(Some(stranger)).await, (signed_in.clone(), 1));
    assert_eq!(sees(Some(rival.clone())).await, (signed_in.clone(), 1));
    assert_eq!(sees(Some(uninvited.clone())).await, (signed_in.clone(), 1));
    assert_eq!(sees(Some(invited.clone())).await, (signed_in.clone(), 1));
    assert_eq!(sees(Some(staff.clone())).await, (expect_all.clone(), 1));
    assert_eq!(
        sees(Some(app.operator_token.clone())).await,
        (expect_all, 1)
    );
    // Searching for the secret's own words finds nothing for outsiders.
    assert_eq!(
        search(&app, Some(&rival), "type=need&q=kestrel").await["total"],
        0
    );
    assert_eq!(
        search(&app, None, "type=need&keyword=codename-kestrel").await["total"],
        0
    );

    // Invited: the professor now finds it; withdrawn: gone again.
    let invitations = format!("/api/v1/needs/{secret}/invitations");
    app.as_(&staff)
        .post(
            &format!("{invitations}?refresh=wait_for"),
            &json!({"faculty_id": invited_profile}),
        )
        .await
        .expect(201);
    assert_eq!(sees(Some(invited.clone())).await, (invited_sees, 1));
    assert_eq!(sees(Some(uninvited)).await, (signed_in.clone(), 1));
    app.as_(&staff)
        .delete(&format!("{invitations}/{invited_profile}?refresh=wait_for"))
        .await
        .expect(204);
    assert_eq!(sees(Some(invited)).await, (signed_in, 1));
}

/// Scores must not reveal documents the caller cannot see. With statistics over the whole
/// index, a company's score for its own draft moved when a competitor wrote the same word
/// into confidential and draft needs (and a match list's scores with it): the company could
/// learn the word was there. Scores come from the statistics of public documents only.
#[actix_web::test]
async fn scores_do_not_depend_on_documents_the_caller_cannot_see() {
    let app = TestApp::spawn().await;
    let acme = app.org_id("company", "Acme", "US").await;
    let rival = app.org_id("company", "Rival", "US").await;
    let uni = app.org_id("university", "NTU", "TW").await;
    let staff = app.member_token(&acme, "staff").await;
    for (name, interests) in [
        ("Ada", "kestrel lidar calibration for autonomous vehicles"),
        ("Bo", "lidar perception and sensor fusion"),
        ("Cy", "battery chemistry"),
    ] {
        profile(
            &app,
            json!({"university_id": uni, "name": name, "research_interests": interests, "visibility": "public"}),
        )
        .await;
    }
    let draft = need(
        &app,
        json!({"company_id": acme, "title": "Kestrel lidar calibration", "status": "draft",
               "summary": "Calibrating kestrel lidar units on vehicles"}),
    )
    .await;
    let observe = || {
        let (app, staff, draft) = (&app, staff.clone(), draft.clone());
        async move {
            let found = search(
                app,
                Some(&staff),
                &format!("type=need&q={}", q("kestrel lidar")),
            )
            .await;
            assert_eq!(ids(&found), vec![draft.clone()]);
            let matches = app
                .as_(&staff)
                .get(&format!("/api/v1/needs/{draft}/matches"))
                .await;
            matches.expect(200);
            let m = matches.json();
            let scores: Vec<f64> = common::each(&m, "items", |i| i["score"].as_f64().unwrap());
            assert!(!scores.is_empty(), "{m}");
            (found["items"][0]["score"].as_f64().unwrap(), scores)
        }
    };
    let before = observe().await;
    for i in 0..6 {
        let (status, visibility) = if i % 2 == 0 {
            ("open", "confidential")
        } else {
            ("draft", "public")
        };
        need(
            &app,
            json!({"company_id": rival, "title": format!("Kestrel programme {i}"), "status": status,
                   "visibility": visibility, "summary": "kestrel kestrel lidar"}),
        )
        .await;
    }
    let after = observe().await;
    assert_eq!(
        before, after,
        "scores moved with documents the caller cannot see"
    );
    // A public need of the rival's is visible to everyone and counts.
    need(
        &app,
        json!({"company_id": rival, "title": "Kestrel study", "status": "open",
               "visibility": "public", "summary": "kestrel"}),
    )
    .await;
    let public = observe().await;
    assert_ne!(before.0, public.0, "public documents are the statistics");
}
