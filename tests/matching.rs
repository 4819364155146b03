//! Matching through the API: both directions, scores in 0..1 that explain themselves, any
//! pair explained with its why-nots, filters, large limits, visibility, bad input; and the
//! quality harness on the shipped labelled set.

mod common;

use common::{TestApp, TestDb};
use serde_json::{Value, json};

async fn profile(app: &TestApp, body: Value) -> String {
    app.create_indexed("/api/v1/faculty", &body).await
}

async fn need(app: &TestApp, body: Value) -> String {
    app.create_indexed("/api/v1/needs", &body).await
}

async fn get(app: &TestApp, token: Option<&str>, path: &str) -> Value {
    let res = app.caller(token).get(path).await;
    res.expect(200);
    res.json()
}

fn ids(list: &Value, side: &str) -> Vec<String> {
    common::each(list, "items", |i| {
        i[side]["id"].as_str().unwrap().to_owned()
    })
}

fn scores(list: &Value) -> Vec<f64> {
    common::each(list, "items", |i| i["score"].as_f64().unwrap())
}

struct World {
    app: TestApp,
    nycu: String,
    snu: String,
    tsmc: String,
    litho: String,
    dl: String,
    net: String,
    bio: String,
    ko: String,
    zh: String,
    old: String,
    need_litho: String,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let nycu = app.org_id("university", "NYCU", "TW").await;
    let snu = app.org_id("university", "SNU", "KR").await;
    let tsmc = app.org_id("company", "TSMC", "TW").await;
    let litho = profile(&app, json!({"university_id": nycu, "name": "Chen Yu-Ting", "department": "Photonics",
        "research_interests": "Extreme ultraviolet lithography, overlay metrology and resist chemistry for advanced nodes.",
        "keywords": ["EUV lithography", "overlay metrology", "photoresist"],
        "availability": ["sponsored_research", "consulting"],
        "publications": [
            {"title": "Stochastic defects in EUV photoresists at 3 nm pitch", "abstract": "We measure stochastic printing failures of chemically amplified resists under EUV exposure and model line-edge roughness.", "year": 2024},
            {"title": "Machine-learned overlay correction for multi-patterning", "abstract": "Overlay errors between lithography layers are predicted from alignment marks and corrected per field.", "year": 2023}
        ]})).await;
    let dl = profile(&app, json!({"university_id": nycu, "name": "Wang Li", "department": "Computer Science",
        "research_interests": "Deep neural networks for vision; training large models on GPU clusters.",
        "keywords": ["deep learning", "computer vision"], "availability": ["sponsored_research"],
        "publications": [{"title": "Efficient vision transformers", "abstract": "A transformer architecture for image recognition with fewer operations.", "year": 2024}]})).await;
    let net = profile(
        &app,
        json!({"university_id": snu, "name": "Park Ji-ho", "department": "Electrical Engineering",
        "research_interests": "Wireless networks, 5G radio access and edge computing.",
        "keywords": ["5G", "edge computing"], "availability": ["consulting"]}),
    )
    .await;
    let bio = profile(
        &app,
        json!({"university_id": snu, "name": "Lee Soo-jin", "department": "Biomedical Engineering",
        "research_interests": "Medical imaging with MRI and deep learning for tumour segmentation.",
        "keywords": ["medical imaging", "MRI"]}),
    )
    .await;
    let ko = profile(
        &app,
        json!({"university_id": snu, "name": "Kim Min-jun", "local_name": "김민준",
        "research_interests": "대규모 언어 모델 학습과 GPU 클러스터 기반 분산 학습 최적화",
        "keywords": ["대규모 언어 모델", "분산 학습"]}),
    )
    .await;
    let zh = profile(
        &app,
        json!({"university_id": nycu, "name": "Lin Mei-Ling", "local_name": "林美玲",
        "research_interests": "先進製程良率分析與晶圓缺陷檢測，結合機器學習的半導體製程控制。",
        "keywords": ["良率分析", "缺陷檢測"]}),
    )
    .await;
    // The same lithography work as `litho`'s best paper, but twenty years ago.
    let old = profile(&app, json!({"university_id": nycu, "name": "Huang Wei", "department": "Photonics",
        "research_interests": "Optical systems.",
        "publications": [{"title": "Stochastic defects in EUV photoresists at 3 nm pitch", "abstract": "We measure stochastic printing failures of chemically amplified resists under EUV exposure and model line-edge roughness.", "year": 2004}]})).await;
    let need_litho = need(&app, json!({"company_id": tsmc, "title": "EUV lithography overlay and resist defects",
        "summary": "Reduce stochastic defects and overlay error in EUV lithography.",
        "description": "We look for a partner to study photoresist stochastic defects and overlay metrology for our 2 nm EUV lithography process.",
        "keywords": ["EUV lithography", "overlay metrology"], "collaboration_types": ["sponsored_research"],
        "status": "open", "visibility": "public"})).await;
    World {
        app,
        nycu,
        snu,
        tsmc,
        litho,
        dl,
        net,
        bio,
        ko,
        zh,
        old,
        need_litho,
    }
}

#[actix_web::test]
async fn a_need_finds_the_right_profiles_with_reasons() {
    let w = world().await;
    let list = get(
        &w.app,
        None,
        &format!("/api/v1/needs/{}/matches", w.need_litho),
    )
    .await;
    let found = ids(&list, "faculty");
    assert_eq!(found[0], w.litho, "{list}");
    // Recent work outranks the same work twenty years ago.
    assert_eq!(found[1], w.old, "{list}");
    for unrelated in [&w.net, &w.bio, &w.ko, &w.zh] {
        assert!(!found.contains(unrelated), "{list}");
    }
    let s = scores(&list);
    assert!(s.windows(2).all(|p| p[0] >= p[1]), "best first: {s:?}");
    assert!(s.iter().all(|v| *v > 0.0 && *v <= 1.0), "{s:?}");
    assert_eq!(list["candidates"].as_u64().unwrap() as usize, found.len());

    let top = &list["items"][0];
    assert_eq!(top["faculty"]["name"], "Chen Yu-Ting");
    assert_eq!(top["faculty"]["university_name"], "NYCU");
    let e = &top["explanation"];
    let terms: Vec<&str> = e["terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["term"].as_str().unwrap())
        .collect();
    for t in ["lithography", "overlay", "euv"] {
        assert!(terms.contains(&t), "{t} in {terms:?}");
    }
    let shares: f64 = e["terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["share"].as_f64().unwrap())
        .sum();
    assert!(shares > 0.5 && shares <= 1.0001, "{shares}");
    let lithography = e["terms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["term"] == "lithography")
        .unwrap();
    assert!(lithography["fields"]["keywords"].as_f64().unwrap() > 0.0);
    assert_eq!(
        e["shared_keywords"],
        json!(["EUV lithography", "overlay metrology"])
    );
    let best = &e["publications"][0];
    assert_eq!(
        best["title"],
        "Stochastic defects in EUV photoresists at 3 nm pitch"
    );
    assert_eq!(best["recency"], 1.0);
    assert!(
        best["terms"]
            .as_array()
            .unwrap()
            .contains(&json!("stochastic"))
    );
    let old = &list["items"][1]["explanation"]["publications"][0];
    assert!(old["recency"].as_f64().unwrap() < 0.5, "{old}");
}

/// An open, public need of the world's company with this title and description.
async fn open_need(w: &World, title: &str, description: &str) -> String {
    need(
        &w.app,
        json!({"company_id": w.tsmc, "title": title, "description": description,
        "status": "open", "visibility": "public"}),
    )
    .await
}

#[actix_web::test]
async fn korean_and_chinese_needs_find_korean_and_chinese_profiles() {
    let w = world().await;
    let ko_need = open_need(
        &w,
        "대규모 언어 모델 분산 학습",
        "GPU 클러스터에서 대규모 언어 모델 학습 효율을 높일 연구 파트너를 찾습니다.",
    )
    .await;
    let zh_need = open_need(
        &w,
        "晶圓缺陷檢測與良率提升",
        "希望與教授合作，以機器學習改善先進製程的晶圓缺陷檢測與良率分析。",
    )
    .await;
    let ko = get(&w.app, None, &format!("/api/v1/needs/{ko_need}/matches")).await;
    assert_eq!(ids(&ko, "faculty")[0], w.ko, "{ko}");
    let zh = get(&w.app, None, &format!("/api/v1/needs/{zh_need}/matches")).await;
    assert_eq!(ids(&zh, "faculty")[0], w.zh, "{zh}");
    assert!(!ids(&zh, "faculty").contains(&w.ko));
    // The explanation names the words as written, not the bigrams they are indexed as.
    let terms = |list: &Value| -> Vec<String> {
        list["items"][0]["explanation"]["terms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["term"].as_str().unwrap().to_owned())
            .collect()
    };
    let zh_terms = terms(&zh);
    assert!(
        zh_terms.iter().any(|t| t.contains("晶圓缺陷檢測")),
        "{zh_terms:?}"
    );
    assert!(
        !zh_terms.iter().any(|t| t == "陷檢" || t == "缺陷"),
        "{zh_terms:?}"
    );
    let ko_terms = terms(&ko);
    assert!(
        ko_terms.iter().any(|t| t.contains("클러스터")),
        "{ko_terms:?}"
    );
    assert!(!ko_terms.iter().any(|t| t == "러스"), "{ko_terms:?}");
    // And back: the Korean professor's best open need is the Korean one.
    let back = get(&w.app, None, &format!("/api/v1/faculty/{}/matches", w.ko)).await;
    assert_eq!(ids(&back, "need")[0], ko_need, "{back}");
}

/// A need finds a profile that shares none of its words because the glossary knows the
/// terms in the other language, and the explanation says which pair of terms it used.
#[actix_web::test]
async fn needs_find_profiles_written_in_another_language_and_say_through_which_terms() {
    let w = world().await;
    let english = open_need(
        &w,
        "Machine learning for wafer defect inspection",
        "Improve defect inspection and yield on our wafers with machine learning.",
    )
    .await;
    let chinese = open_need(
        &w,
        "極紫外光微影的光阻缺陷",
        "尋找研究極紫外光微影與光阻的教授合作。",
    )
    .await;
    let found = get(&w.app, None, &format!("/api/v1/needs/{english}/matches")).await;
    assert_eq!(ids(&found, "faculty")[0], w.zh, "{found}");
    let terms = common::each(&found["items"][0]["explanation"], "terms", |t| {
        t["term"].as_str().unwrap().to_owned()
    });
    assert!(
        terms.iter().any(|t| t == "缺陷檢測 ≈ defect inspection"),
        "{terms:?}"
    );
    assert!(
        terms.iter().any(|t| t == "機器學習 ≈ machine learning"),
        "{terms:?}"
    );
    let shares: f64 = common::each(&found["items"][0]["explanation"], "terms", |t| {
        t["share"].as_f64().unwrap()
    })
    .iter()
    .sum();
    assert!((shares - 1.0).abs() < 1e-3, "{shares}");

    let found = get(&w.app, None, &format!("/api/v1/needs/{chinese}/matches")).await;
    assert_eq!(ids(&found, "faculty")[0], w.litho, "{found}");
    let why = get(
        &w.app,
        None,
        &format!(
            "/api/v1/matches/explain?need_id={chinese}&faculty_id={}",
            w.litho
        ),
    )
    .await;
    let text = why.to_string();
    assert!(text.contains("photoresist ≈ 光阻"), "{why}");
    // And from the profile's side: the English professor finds the Chinese need.
    let back = get(
        &w.app,
        None,
        &format!("/api/v1/faculty/{}/matches", w.litho),
    )
    .await;
    assert!(ids(&back, "need").contains(&chinese), "{back}");
}

#[actix_web::test]
async fn a_profile_finds_open_needs_with_the_same_pair_score() {
    let w = world().await;
    let other = need(
        &w.app,
        json!({"company_id": w.tsmc, "title": "5G edge computing testbed",
        "description": "Edge computing for private 5G networks in fabs.", "keywords": ["5G"],
        "status": "open", "visibility": "public"}),
    )
    .await;
    let draft = need(
        &w.app,
        json!({"company_id": w.tsmc, "title": "EUV lithography draft idea",
        "keywords": ["EUV lithography"], "status": "draft", "visibility": "public"}),
    )
    .await;
    let list = get(
        &w.app,
        None,
        &format!("/api/v1/faculty/{}/matches", w.litho),
    )
    .await;
    let found = ids(&list, "need");
    // The 5G need shares only "edge" (line-edge roughness): far below.
    assert_eq!(found, vec![w.need_litho.clone(), other.clone()], "{list}");
    assert!(!found.contains(&draft));
    let s = scores(&list);
    assert!(s[1] < s[0] / 3.0, "{s:?}");
    let item = &list["items"][0];
    assert_eq!(item["need"]["status"], "open");
    // The same score as in the need's list and in explain.
    let from_need = get(
        &w.app,
        None,
        &format!("/api/v1/needs/{}/matches", w.need_litho),
    )
    .await;
    let explained = get(
        &w.app,
        None,
        &format!(
            "/api/v1/matches/explain?need_id={}&faculty_id={}",
            w.need_litho, w.litho
        ),
    )
    .await;
    let a = item["score"].as_f64().unwrap();
    let b = from_need["items"][0]["score"].as_f64().unwrap();
    let c = explained["score"].as_f64().unwrap();
    assert!((a - b).abs() < 1e-5 && (a - c).abs() < 1e-5, "{a} {b} {c}");
    assert_eq!(explained["in_need_matches"], true);
    assert_eq!(explained["in_faculty_matches"], true);
    assert_eq!(explained["reasons"], json!([]));
}

/// Publications keep the words matching counts beside their text; rows written before that
/// (or by another analyser, or damaged) are analysed from their text instead, with the same
/// scores and explanations.
#[actix_web::test]
async fn publications_without_their_stored_counts_match_the_same() {
    let w = world().await;
    let paths = [
        format!("/api/v1/needs/{}/matches", w.need_litho),
        format!("/api/v1/faculty/{}/matches", w.litho),
        format!(
            "/api/v1/matches/explain?need_id={}&faculty_id={}",
            w.need_litho, w.litho
        ),
    ];
    let mut before = Vec::new();
    for p in &paths {
        before.push(get(&w.app, None, p).await);
    }
    // Not vacuous: the best publication counts in the list.
    let best = &before[0]["items"][0]["explanation"]["publications"];
    assert!(
        best.as_array().is_some_and(|a| !a.is_empty()),
        "{}",
        before[0]
    );
    let damaged = if w.app.db.is_postgres() {
        "'\\x00010203'::bytea"
    } else {
        "X'00010203'"
    };
    for analysed in ["NULL", damaged] {
        w.app
            .db
            .execute(&format!("UPDATE publications SET analysed = {analysed}"));
        for (p, was) in paths.iter().zip(&before) {
            assert_eq!(&get(&w.app, None, p).await, was, "{p} with {analysed}");
        }
    }
    // What the service fills in at start: rows without a form get theirs, with the same
    // lists again. (The damaged ones stay as they are: matching reads their text.)
    w.app.db.execute("UPDATE publications SET analysed = NULL");
    let url = w.app.db.url.clone();
    let filled = actix_web::rt::task::spawn_blocking(move || {
        let db = liaison::db::Db::connect(&url, 1, std::time::Duration::from_secs(5)).unwrap();
        liaison::service::faculty::analysed::fill(&db, &|| false).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(filled, 4, "every publication of the world");
    assert_eq!(
        w.app
            .db
            .try_execute("UPDATE publications SET analysed = analysed WHERE analysed IS NULL"),
        Ok(0)
    );
    for (p, was) in paths.iter().zip(&before) {
        assert_eq!(&get(&w.app, None, p).await, was, "{p} after filling");
    }
}

fn codes(e: &Value) -> Vec<(String, String)> {
    e["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["code"].as_str().unwrap().to_owned(),
                r["list"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[actix_web::test]
async fn explain_says_why_a_pair_is_not_listed() {
    let w = world().await;
    let explain = |query: String| {
        let app = &w.app;
        async move { get(app, None, &format!("/api/v1/matches/explain?{query}")).await }
    };
    // No shared words.
    let e = explain(format!("need_id={}&faculty_id={}", w.need_litho, w.bio)).await;
    assert_eq!(e["score"], 0.0);
    assert_eq!(e["in_need_matches"], false);
    assert!(codes(&e).contains(&("no_shared_terms".into(), "need_matches".into())));
    // Filtered out, below min_score.
    let e = explain(format!(
        "need_id={}&faculty_id={}&university_id={}&availability=licensing&min_score=0.99",
        w.need_litho, w.litho, w.snu
    ))
    .await;
    assert!(e["score"].as_f64().unwrap() > 0.0);
    let c = codes(&e);
    assert!(
        c.contains(&("filtered_out".into(), "need_matches".into())),
        "{c:?}"
    );
    assert!(
        c.contains(&("below_min_score".into(), "need_matches".into())),
        "{c:?}"
    );
    assert_eq!(
        c.iter().filter(|(code, _)| code == "filtered_out").count(),
        2,
        "{c:?}"
    );
    // The list agrees: the same filters leave it out.
    let list = get(
        &w.app,
        None,
        &format!(
            "/api/v1/needs/{}/matches?university_id={}",
            w.need_litho, w.snu
        ),
    )
    .await;
    assert!(!ids(&list, "faculty").contains(&w.litho));
    let list = get(
        &w.app,
        None,
        &format!(
            "/api/v1/needs/{}/matches?university_id={}&availability=consulting",
            w.need_litho, w.nycu
        ),
    )
    .await;
    assert_eq!(ids(&list, "faculty"), vec![w.litho.clone()]);

    // A closed need is not matched to profiles; the profile side still is.
    let res = w
        .app
        .anonymous()
        .get(&format!("/api/v1/needs/{}", w.need_litho))
        .await;
    let etag = res.header("etag").unwrap();
    w.app
        .operator()
        .if_match(&etag)
        .patch(
            &format!("/api/v1/needs/{}?refresh=wait_for", w.need_litho),
            &json!({"status": "closed"}),
        )
        .await
        .expect(200);
    let e = explain(format!("need_id={}&faculty_id={}", w.need_litho, w.litho)).await;
    assert_eq!(e["in_need_matches"], true);
    assert_eq!(e["in_faculty_matches"], false);
    assert_eq!(
        codes(&e),
        vec![("need_not_open".to_owned(), "faculty_matches".to_owned())]
    );
    let list = get(
        &w.app,
        None,
        &format!("/api/v1/faculty/{}/matches", w.litho),
    )
    .await;
    assert!(ids(&list, "need").is_empty(), "{list}");
}

#[actix_web::test]
async fn confidential_needs_are_matched_only_for_who_may_see_them() {
    let w = world().await;
    let token = w.app.member_token(&w.nycu, "faculty").await;
    let me = get(&w.app, Some(&token), "/api/v1/me").await;
    let mine = profile(&w.app, json!({"university_id": w.nycu, "name": "Owner Prof",
        "research_interests": "EUV lithography overlay metrology", "owner_user_id": me["user"]["id"]})).await;
    let staff = w.app.member_token(&w.tsmc, "staff").await;
    let secret = need(
        &w.app,
        json!({"company_id": w.tsmc, "title": "Confidential EUV lithography overlay program",
        "keywords": ["EUV lithography"], "status": "open", "visibility": "confidential"}),
    )
    .await;
    let matches = |t: Option<String>| {
        let (app, mine) = (&w.app, mine.clone());
        async move {
            ids(
                &get(
                    app,
                    t.as_deref(),
                    &format!("/api/v1/faculty/{mine}/matches"),
                )
                .await,
                "need",
            )
        }
    };
    assert!(!matches(Some(token.clone())).await.contains(&secret));
    assert!(!matches(None).await.contains(&secret));
    assert!(matches(Some(staff.clone())).await.contains(&secret));
    // The professor cannot see it: explain is 404 for them, and tells the company why.
    w.app
        .as_(&token)
        .get(&format!(
            "/api/v1/matches/explain?need_id={secret}&faculty_id={mine}"
        ))
        .await
        .expect(404);
    w.app
        .as_(&token)
        .get(&format!("/api/v1/needs/{secret}/matches"))
        .await
        .expect(404);
    let e = get(
        &w.app,
        Some(&staff),
        &format!("/api/v1/matches/explain?need_id={secret}&faculty_id={mine}"),
    )
    .await;
    assert!(codes(&e).contains(&("not_visible_to_faculty".into(), "faculty_matches".into())));
    // Inviting the professor lets them see it in their matches; withdrawing takes it away.
    w.app
        .as_(&staff)
        .post(
            &format!("/api/v1/needs/{secret}/invitations?refresh=wait_for"),
            &json!({"faculty_id": mine}),
        )
        .await
        .expect(201);
    assert!(matches(Some(token.clone())).await.contains(&secret));
    let e = get(
        &w.app,
        Some(&token),
        &format!("/api/v1/matches/explain?need_id={secret}&faculty_id={mine}"),
    )
    .await;
    assert_eq!(e["reasons"], json!([]));
    w.app
        .as_(&staff)
        .delete(&format!(
            "/api/v1/needs/{secret}/invitations/{mine}?refresh=wait_for"
        ))
        .await
        .expect(204);
    assert!(!matches(Some(token)).await.contains(&secret));
    // Members-only profiles are matched only for signed-in callers.
    let hidden = profile(
        &w.app,
        json!({"university_id": w.nycu, "name": "Members Only",
        "keywords": ["EUV lithography"], "visibility": "members"}),
    )
    .await;
    let anon = get(
        &w.app,
        None,
        &format!("/api/v1/needs/{}/matches", w.need_litho),
    )
    .await;
    assert!(!ids(&anon, "faculty").contains(&hidden));
    let signed = get(
        &w.app,
        Some(&staff),
        &format!("/api/v1/needs/{}/matches", w.need_litho),
    )
    .await;
    assert!(ids(&signed, "faculty").contains(&hidden));
}

#[actix_web::test]
async fn a_large_limit_returns_every_candidate_and_pages_agree() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "NTU", "TW").await;
    let co = app.org_id("company", "MediaTek", "TW").await;
    let mut expected = Vec::new();
    for i in 0..40 {
        let topic = if i % 4 == 0 {
            "gardening"
        } else {
            "modem firmware"
        };
        let id = profile(
            &app,
            json!({"university_id": uni, "name": format!("Prof {i}"),
            "research_interests": format!("{topic} and chip design {i}")}),
        )
        .await;
        if i % 4 != 0 {
            expected.push(id);
        }
    }
    let n = need(
        &app,
        json!({"company_id": co, "title": "Modem firmware", "keywords": ["firmware"],
        "status": "open", "visibility": "public"}),
    )
    .await;
    let all = get(&app, None, &format!("/api/v1/needs/{n}/matches?limit=500")).await;
    let mut found = ids(&all, "faculty");
    assert_eq!(all["candidates"], 30);
    assert_eq!(found.len(), 30);
    let first = get(&app, None, &format!("/api/v1/needs/{n}/matches?limit=10")).await;
    let second = get(
        &app,
        None,
        &format!("/api/v1/needs/{n}/matches?limit=10&offset=10"),
    )
    .await;
    assert_eq!(ids(&first, "faculty"), found[..10].to_vec());
    assert_eq!(ids(&second, "faculty"), found[10..20].to_vec());
    found.sort();
    expected.sort();
    assert_eq!(found, expected);
    let none = get(
        &app,
        None,
        &format!("/api/v1/needs/{n}/matches?min_score=1"),
    )
    .await;
    assert_eq!(none["items"], json!([]));
}

/// Words drawn from a fixed vocabulary by a seeded generator: texts that share some words in
/// varied amounts, so the first cut's order and the pair score's differ.
struct Words(u64);

impl Words {
    const VOCABULARY: [&'static str; 24] = [
        "lidar",
        "radar",
        "antenna",
        "battery",
        "cathode",
        "photonic",
        "laser",
        "graphene",
        "catalyst",
        "enzyme",
        "protein",
        "turbine",
        "robot",
        "drone",
        "sensor",
        "wafer",
        "lithography",
        "transformer",
        "compiler",
        "cryptography",
        "satellite",
        "membrane",
        "polymer",
        "vaccine",
    ];

    fn pick(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| {
                self.0 = self
                    .0
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                Self::VOCABULARY[(self.0 >> 33) as usize % Self::VOCABULARY.len()]
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Every page of a list, 20 at a time, until one comes back short.
async fn pages(app: &TestApp, path: &str, side: &str) -> Vec<String> {
    let mut all = Vec::new();
    for offset in (0..).step_by(20) {
        let page = get(app, None, &format!("{path}?limit=20&offset={offset}")).await;
        let ids = ids(&page, side);
        let last = ids.len() < 20;
        all.extend(ids);
        if last {
            break;
        }
    }
    all
}

/// Pages of 20 show what one page of 500 shows, in the same order: no candidate twice and
/// none left out, in both directions, with lists several re-scoring blocks long.
#[actix_web::test]
async fn paging_through_a_long_list_shows_each_candidate_once() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "NTHU", "TW").await;
    let co = app.org_id("company", "Foxconn", "TW").await;
    let mut words = Words(7);
    let lines: Vec<String> = (0..150)
        .map(|i| {
            json!({"external_id": format!("P-{i}"), "name": format!("Researcher {i}"),
            "research_interests": words.pick(3 + i % 5),
            "keywords": [words.pick(1), words.pick(2)],
            "publications": [
                {"title": words.pick(4), "abstract": words.pick(12), "year": 2010 + i % 15},
                {"title": words.pick(3), "abstract": words.pick(8)}
            ]})
            .to_string()
        })
        .collect();
    let res = app
        .import_indexed(&uni, "application/x-ndjson", lines.join("\n"))
        .await;
    let profile_id = res.json()["rows"][0]["id"].as_str().unwrap().to_owned();
    let mut need_id = String::new();
    for i in 0..120 {
        let body = json!({"company_id": co, "title": words.pick(2 + i % 3),
            "description": words.pick(4 + i % 7), "keywords": [words.pick(1)],
            "status": "open", "visibility": "public"});
        // The last one waits for the index, and with it every one before.
        let path = if i == 119 {
            "/api/v1/needs?refresh=wait_for"
        } else {
            "/api/v1/needs"
        };
        let res = app.operator().post(path, &body).await;
        res.expect(201);
        need_id = res.id();
    }
    for (path, side) in [
        (format!("/api/v1/needs/{need_id}/matches"), "faculty"),
        (format!("/api/v1/faculty/{profile_id}/matches"), "need"),
    ] {
        let whole = get(&app, None, &format!("{path}?limit=500")).await;
        let whole_ids = ids(&whole, side);
        assert!(whole_ids.len() > 80, "{path}: {}", whole_ids.len());
        assert_eq!(whole["candidates"], whole_ids.len(), "{path}");
        let paged = pages(&app, &path, side).await;
        assert_eq!(paged, whole_ids, "{path}");
        // With a floor, pages still agree with the one list, and a page is full while more
        // remain (blocks are re-scored until the page is covered).
        let floor = scores(&whole)[whole_ids.len() / 2];
        let above = get(&app, None, &format!("{path}?limit=500&min_score={floor}")).await;
        let above_ids = ids(&above, side);
        let mut at = Vec::new();
        for offset in (0..above_ids.len()).step_by(20) {
            let page = get(
                &app,
                None,
                &format!("{path}?limit=20&offset={offset}&min_score={floor}"),
            )
            .await;
            at.extend(ids(&page, side));
        }
        assert_eq!(at, above_ids, "{path} min_score={floor}");
        assert!(above_ids.len() < whole_ids.len(), "{path}");
    }
}

/// In a corpus of 1,000+ documents, a need's words found in over a fifth of them still count,
/// at their low weight, for the profiles its rarer words find; alone they find nobody.
#[actix_web::test]
async fn common_words_count_only_for_profiles_the_rarer_words_find() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "KAIST", "KR").await;
    let co = app.org_id("company", "Samsung", "KR").await;
    let mut csv = String::from("external_id,name,research_interests\n");
    // `control` and `system` in 300 of 1,102 profiles: common.
    for i in 0..1100 {
        let topic = if i % 11 < 3 {
            "Control system design"
        } else {
            "Crop biology"
        };
        csv += &format!("F-{i},Filler {i},{topic} for plant number {i}\n");
    }
    // The same length, and the same rarer words.
    csv += "A-1,Plain,Spintronic memory devices and magnetic tunnel junctions for storage arrays\n";
    csv += "B-1,Controls,Spintronic memory devices and magnetic tunnel junctions with control system\n";
    let res = app.import_indexed(&uni, "text/csv", csv).await;
    let filler = res.json()["rows"][0]["id"].as_str().unwrap().to_owned();
    let n = need(
        &app,
        json!({"company_id": co, "title": "Control system for spintronic memory",
        "description": "A control system design for magnetic tunnel junction memory devices.",
        "status": "open", "visibility": "public"}),
    )
    .await;
    let list = get(&app, None, &format!("/api/v1/needs/{n}/matches")).await;
    let names = common::each(&list, "items", |i| {
        i["faculty"]["name"].as_str().unwrap().to_owned()
    });
    // Ahead only through the common words it shares.
    assert_eq!(names, ["Controls", "Plain"], "{list}");
    assert_eq!(list["candidates"], 2, "{list}");
    let terms: Vec<&str> = list["items"][0]["explanation"]["terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["term"].as_str().unwrap())
        .collect();
    assert!(terms.contains(&"control"), "{terms:?}");
    assert!(terms.contains(&"spintronic"), "{terms:?}");
    // A pair sharing only common words scores 0, and explain says why neither list has it.
    let e = get(
        &app,
        None,
        &format!("/api/v1/matches/explain?need_id={n}&faculty_id={filler}"),
    )
    .await;
    assert_eq!(e["faculty"]["name"], "Filler 0", "{e}");
    assert_eq!(e["score"], 0.0, "{e}");
    let c = codes(&e);
    for list in ["need_matches", "faculty_matches"] {
        assert!(
            c.contains(&("no_shared_terms".into(), list.into())),
            "{c:?}"
        );
    }
    let theirs = get(&app, None, &format!("/api/v1/faculty/{filler}/matches")).await;
    assert_eq!(theirs["items"], json!([]), "{theirs}");
}

#[actix_web::test]
async fn bad_parameters_are_400_problems_and_unknown_records_404() {
    let w = world().await;
    let n = &w.need_litho;
    for path in [
        format!("/api/v1/needs/{n}/matches?limit=0"),
        format!("/api/v1/needs/{n}/matches?limit=501"),
        format!("/api/v1/needs/{n}/matches?offset=-1"),
        format!("/api/v1/needs/{n}/matches?min_score=2"),
        format!("/api/v1/needs/{n}/matches?min_score=abc"),
        format!("/api/v1/needs/{n}/matches?min_score=NaN"),
        format!("/api/v1/needs/{n}/matches?country=Taiwan"),
        format!("/api/v1/needs/{n}/matches?university_id=nope"),
        format!("/api/v1/needs/{n}/matches?availability=forever"),
        format!("/api/v1/needs/{n}/matches?colour=red"),
        format!("/api/v1/faculty/{}/matches?company_id=nope", w.litho),
        format!("/api/v1/faculty/{}/matches?collaboration_type=x", w.litho),
        format!("/api/v1/matches/explain?need_id={n}"),
        format!(
            "/api/v1/matches/explain?need_id=nope&faculty_id={}",
            w.litho
        ),
        "/api/v1/needs/not-an-id/matches".to_owned(),
    ] {
        let res = w.app.anonymous().get(&path).await;
        res.expect(400);
        res.assert_problem();
    }
    for path in [
        "/api/v1/needs/0190c2a4-0000-7000-8000-000000000000/matches".to_owned(),
        "/api/v1/faculty/0190c2a4-0000-7000-8000-000000000000/matches".to_owned(),
        format!(
            "/api/v1/matches/explain?need_id={n}&faculty_id=0190c2a4-0000-7000-8000-000000000000"
        ),
    ] {
        let res = w.app.anonymous().get(&path).await;
        res.expect(404);
        res.assert_problem();
    }
    let _ = (&w.dl, &w.ko);
}

/// The labelled set shipped under tests/fixtures must keep its quality (figures in the
/// bench/README.md; `liaison eval tests/fixtures/match-eval.json` prints them).
#[actix_web::test]
async fn quality_on_the_labelled_set_does_not_fall() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    let set = liaison::eval::read(std::path::Path::new("tests/fixtures/match-eval.json")).unwrap();
    assert!(set.needs.len() >= 30);
    let report = liaison::eval::run(&set, &db.url, dir.path()).await.unwrap();
    eprintln!(
        "nDCG@10 {:.4}, pairwise loss {:.4}",
        report.ndcg_at_10, report.pairwise_loss
    );
    assert!(
        report.ndcg_at_10 >= NDCG_FLOOR,
        "nDCG@10 {}",
        report.ndcg_at_10
    );
    assert!(
        report.pairwise_loss <= LOSS_CEILING,
        "pairwise loss {}",
        report.pairwise_loss
    );
}

/// The cross-language set: needs whose relevant profiles are written in another language
/// (`liaison eval tests/fixtures/match-eval-cross-language.json` prints its figures).
#[actix_web::test]
async fn quality_across_languages_does_not_fall() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    let path = "tests/fixtures/match-eval-cross-language.json";
    let set = liaison::eval::read(std::path::Path::new(path)).unwrap();
    assert!(set.needs.len() >= 30);
    let report = liaison::eval::run(&set, &db.url, dir.path()).await.unwrap();
    eprintln!(
        "nDCG@10 {:.4}, pairwise loss {:.4}",
        report.ndcg_at_10, report.pairwise_loss
    );
    assert!(
        report.ndcg_at_10 >= CROSS_NDCG_FLOOR,
        "nDCG@10 {}",
        report.ndcg_at_10
    );
    assert!(
        report.pairwise_loss <= CROSS_LOSS_CEILING,
        "pairwise loss {}",
        report.pairwise_loss
    );
}

const CROSS_NDCG_FLOOR: f64 = 0.94;
const CROSS_LOSS_CEILING: f64 = 0.075;

/// What the matcher reached on the set, less a small margin for harmless reorderings.
const NDCG_FLOOR: f64 = 0.96;
const LOSS_CEILING: f64 = 0.105;

/// The development set from real text, end to end on a small file in its format: every
/// firm's latest award ranks every firm's profile, and every profile every award, through the
/// API's match lists, and the report counts ranks the way the figures in bench/README.md do.
#[actix_web::test]
async fn the_development_set_ranks_every_profile_through_the_match_list() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    let topics = [
        ("Photon Labs", "silicon photonics waveguide laser modulator"),
        ("Cell Power", "lithium battery cathode electrolyte cell"),
        ("Gene Works", "crispr gene editing delivery vector"),
        ("Grid Sense", "power grid transformer fault detection"),
        ("Deep Vision", "neural network image segmentation training"),
        ("Aero Frame", "composite wing structure fatigue testing"),
    ];
    let mut lines = Vec::new();
    for (firm, words) in topics {
        for year in 2010..2017 {
            let line = json!({"title": format!("{words} study {year}"), "firm": firm, "year": year,
                "abstract": format!("We study {words} and report {words} results ({year}).")});
            lines.push(line.to_string());
        }
    }
    let file = dir.path().join("sbir.jsonl");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let set = liaison::eval::dev_set(&file, None).unwrap();
    assert_eq!((set.needs.len(), set.faculty.len()), (6, 6));
    let report = liaison::eval::run_dev(&set, &db.url, dir.path())
        .await
        .unwrap();
    for r in [&report.needs_to_profiles, &report.profiles_to_needs] {
        assert_eq!(r.ranks, vec![Some(1); 6], "{:?}", r.ranks);
        assert_eq!((r.mrr, r.recall_at_10, r.ndcg_at_10), (1.0, 1.0, 1.0));
        assert_eq!((r.queries, r.candidates, r.unranked), (6, 6, 0));
    }
}
