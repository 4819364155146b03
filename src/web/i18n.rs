//! The interface's words in English, Korean and Traditional Chinese. Every string is a field
//! of [`Messages`], so a language missing one does not compile; a test checks that none is
//! left empty.

/// An interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ko,
    ZhHant,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Ko, Lang::ZhHant];

    /// The BCP 47 tag (`lang` attributes, the `lang` parameter).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ko => "ko",
            Lang::ZhHant => "zh-Hant",
        }
    }

    /// Its name in itself, for the language switch.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Ko => "한국어",
            Lang::ZhHant => "繁體中文",
        }
    }

    /// A tag as written in a parameter or an `Accept-Language` entry: any Chinese is served
    /// Traditional Chinese, the only Chinese the interface has.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "ko" => Some(Lang::Ko),
            "zh" => Some(Lang::ZhHant),
            _ => None,
        }
    }

    /// The language of a request: `lang` when it names one, else the best of
    /// `Accept-Language` by its weights, else English.
    pub fn choose(param: Option<&str>, accept: Option<&str>) -> Lang {
        if let Some(l) = param.and_then(Lang::parse) {
            return l;
        }
        let mut best: Option<(f32, Lang)> = None;
        for entry in accept.unwrap_or_default().split(',') {
            let mut parts = entry.split(';');
            let Some(l) = parts.next().and_then(Lang::parse) else {
                continue;
            };
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|v| v.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, l));
            }
        }
        best.map_or(Lang::En, |(_, l)| l)
    }

    pub fn messages(self) -> &'static Messages {
        match self {
            Lang::En => &EN,
            Lang::Ko => &KO,
            Lang::ZhHant => &ZH_HANT,
        }
    }
}

/// Declares [`Messages`] and the list of its strings from one list of names, so that the
/// completeness test always sees every string.
macro_rules! messages {
    ($($field:ident),+ $(,)?) => {
        /// Every string of the interface. Counts are written with `{n}`.
        pub struct Messages {
            $(pub $field: &'static str,)+
            /// The names of stored values (statuses, states, kinds, reasons) by wire name.
            pub values: &'static [(&'static str, &'static str)],
        }

        impl Messages {
            /// Every string with its field name, for the completeness test.
            pub fn all(&self) -> Vec<(&'static str, &'static str)> {
                vec![$((stringify!($field), self.$field)),+]
            }
        }
    };
}

messages! {
    tagline,
    intro,
    skip_to_content,
    main_navigation,
    language,
    api_docs,
    search_heading,
    search_label,
    search_placeholder,
    search_button,
    search_what,
    type_faculty,
    type_need,
    type_center,
    results,
    one_result,
    results_any_word,
    no_results,
    filters,
    clear_filters,
    previous,
    next,
    page,
    pages,
    facet_university,
    facet_company,
    facet_department,
    facet_keyword,
    facet_collaboration_type,
    facet_status,
    field_title,
    field_keywords,
    field_body,
    bad_search,
    public_only,
    not_found,
    go_home,
    sign_in,
    sign_out,
    email,
    password,
    signed_in_as,
    wrong_credentials,
    too_many_attempts,
    form_expired,
    sign_in_intro,
    unavailable,
    your_needs,
    your_profile,
    engagements,
    post_need,
    no_needs_yet,
    not_company_member,
    status,
    visibility,
    deadline,
    summary,
    description,
    keywords_hint,
    collaboration_types,
    budget,
    budget_min,
    budget_max,
    currency,
    duration_months,
    location,
    remote,
    visibility_public_hint,
    visibility_members_hint,
    visibility_confidential_hint,
    draft_hint,
    open_hint,
    form_problems,
    not_a_number,
    move_need_to,
    interested_as,
    ranked_professors,
    candidates,
    no_matches,
    shortlist,
    invite,
    follow_engagement,
    why_not_heading,
    why_not_label,
    why_not_button,
    listed_for_need,
    not_listed_for_need,
    back_to_need,
    score,
    profile_score,
    best_publication_score,
    words_that_count,
    word,
    share,
    found_in,
    field_publications,
    matching_publications,
    shared_keywords,
    why_no_shared_terms,
    why_below_min_score,
    why_filtered_out,
    why_need_not_open,
    why_not_visible_to_faculty,
    last_change,
    no_engagements,
    answer_interested,
    answer_decline,
    record_agreement,
    end_engagement,
    decline_reason,
    decline_text,
    history,
    moved_meanwhile,
    not_allowed,
    refused,
    no_own_profile,
    research_interests,
    availability,
    not_available,
    edit_profile,
    invitations_to_answer,
    needs_that_fit,
    academic_title,
    bio,
    publications_hint,
    profile_public_hint,
    profile_members_hint,
    save,
    changed_meanwhile,
    need_title,
    need,
    professor,
    need_hidden,
    profile_hidden,
    need_listed_for_faculty,
    need_not_listed_for_faculty,
    in_the_needs_list,
    in_the_professors_list,
}

pub const EN: Messages = Messages {
    tagline: "Industry meets academia",
    intro: "Liaison matches companies' research needs with professors' expertise, in English, Korean and Chinese. Search the public profiles, needs and joint research centres below.",
    skip_to_content: "Skip to content",
    main_navigation: "Main",
    language: "Language",
    api_docs: "API documentation",
    search_heading: "Search",
    search_label: "Search words",
    search_placeholder: "e.g. GPU clusters, 반도체, 半導體製程",
    search_button: "Search",
    search_what: "Search in",
    type_faculty: "Professors",
    type_need: "Company needs",
    type_center: "Research centres",
    results: "{n} results",
    one_result: "{n} result",
    results_any_word: "No result has every word; showing those with any of them.",
    no_results: "Nothing found. Try fewer or other words.",
    filters: "Filters",
    clear_filters: "Clear filters",
    previous: "Previous",
    next: "Next",
    page: "Page {n}",
    pages: "Pages",
    facet_university: "University",
    facet_company: "Company",
    facet_department: "Department",
    facet_keyword: "Keyword",
    facet_collaboration_type: "Collaboration",
    facet_status: "Status",
    field_title: "Name",
    field_keywords: "Keywords",
    field_body: "Text",
    bad_search: "This search cannot be run:",
    public_only: "You see public records only.",
    not_found: "There is no such page.",
    go_home: "Go to the start page",
    sign_in: "Sign in",
    sign_out: "Sign out",
    email: "Email",
    password: "Password",
    signed_in_as: "Signed in as {n}",
    wrong_credentials: "Wrong email or password.",
    too_many_attempts: "Too many failed attempts. Try again later.",
    form_expired: "This form has expired. Please try again.",
    sign_in_intro: "Use the account your organization's administrator gave you.",
    unavailable: "The service cannot answer right now. Please try again in a moment.",
    your_needs: "Your needs",
    your_profile: "Your profile",
    engagements: "Engagements",
    post_need: "Post a need",
    no_needs_yet: "Your company has posted no needs yet.",
    not_company_member: "Only a company's admins and staff post needs.",
    status: "Status",
    visibility: "Who sees it",
    deadline: "Deadline",
    summary: "Summary",
    description: "Description",
    keywords_hint: "Separate them with commas, in any language.",
    collaboration_types: "Ways of working together",
    budget: "Budget",
    budget_min: "From",
    budget_max: "To",
    currency: "Currency (ISO code)",
    duration_months: "Duration in months",
    location: "Location",
    remote: "Remote work is possible",
    visibility_public_hint: "anyone can find it, signed in or not.",
    visibility_members_hint: "any signed-in user of Liaison can find it.",
    visibility_confidential_hint: "only your company and the professors you invite see it; it is still matched, and only you see the ranking.",
    draft_hint: "kept to yourselves until you open it.",
    open_hint: "matched and shown now, within its visibility.",
    form_problems: "The form could not be saved:",
    not_a_number: "is not a whole number",
    move_need_to: "Mark it {n}",
    interested_as: "I am interested ({n})",
    ranked_professors: "Professors who fit, best first",
    candidates: "{n} profiles share words with this need.",
    no_matches: "Nothing fits yet.",
    shortlist: "Shortlist",
    invite: "Invite",
    follow_engagement: "Follow it",
    why_not_heading: "Why is a professor not listed?",
    why_not_label: "The professor's name",
    why_not_button: "Find",
    listed_for_need: "This professor qualifies for the need's list; where they rank depends on the others' scores.",
    not_listed_for_need: "This professor does not qualify for the need's list.",
    back_to_need: "Back to the need",
    score: "Score",
    profile_score: "Profile",
    best_publication_score: "best publication",
    words_that_count: "The words that made the score",
    word: "Word",
    share: "Share",
    found_in: "Found in",
    field_publications: "Publications",
    matching_publications: "Publications that match",
    shared_keywords: "Shared keywords",
    why_no_shared_terms: "No shared words.",
    why_below_min_score: "Below the minimum score.",
    why_filtered_out: "Left out by a filter.",
    why_need_not_open: "The need is not open.",
    why_not_visible_to_faculty: "The professor cannot see the need.",
    last_change: "Last change",
    no_engagements: "No engagements yet.",
    answer_interested: "Interested",
    answer_decline: "Decline",
    record_agreement: "Record the agreement",
    end_engagement: "End it",
    decline_reason: "Why",
    decline_text: "In your words (optional; required for “other”)",
    history: "History",
    moved_meanwhile: "It has moved to “{n}” since you looked; look again before acting.",
    not_allowed: "Not allowed",
    refused: "That could not be done",
    no_own_profile: "No profile is linked to your account yet; your university's liaison office can link one.",
    research_interests: "Research interests",
    availability: "Available for",
    not_available: "not available now",
    edit_profile: "Edit the profile",
    invitations_to_answer: "Invitations to answer",
    needs_that_fit: "Open needs that fit, best first",
    academic_title: "Title",
    bio: "About",
    publications_hint: "One per line: year | title | venue | DOI (year, venue and DOI may be left out).",
    profile_public_hint: "anyone can find it, signed in or not.",
    profile_members_hint: "only signed-in users of Liaison find it.",
    save: "Save",
    changed_meanwhile: "Someone changed the profile since you opened the form. Your changes are below; saving again replaces theirs.",
    need_title: "Title",
    need: "Need",
    professor: "Professor",
    need_hidden: "a need you can no longer see",
    profile_hidden: "a profile you cannot see",
    need_listed_for_faculty: "The need is in this professor's own list of needs that fit.",
    need_not_listed_for_faculty: "The need is not in this professor's own list of needs that fit.",
    in_the_needs_list: "Professors for this need",
    in_the_professors_list: "The professor's needs that fit",
    values: &[
        ("draft", "draft"),
        ("open", "open"),
        ("closed", "closed"),
        ("awarded", "awarded"),
        ("shortlisted", "shortlisted"),
        ("invited", "invited"),
        ("interested", "interested"),
        ("declined", "declined"),
        ("agreed", "agreed"),
        ("public", "public"),
        ("members", "members only"),
        ("confidential", "confidential"),
        ("sponsored_research", "sponsored research"),
        ("consulting", "consulting"),
        ("joint_lab", "joint lab"),
        ("student_internships", "student internships"),
        ("licensing", "licensing"),
        ("no_capacity", "no capacity now"),
        ("out_of_scope", "outside my research"),
        ("timeline", "the timeline does not fit"),
        ("budget", "the budget does not fit"),
        ("confidentiality_terms", "the confidentiality terms"),
        ("other", "other"),
    ],
};

pub const KO: Messages = Messages {
    tagline: "산업과 학계를 잇다",
    intro: "Liaison은 기업의 연구 수요와 교수의 전문성을 영어, 한국어, 중국어로 연결합니다. 아래에서 공개된 교수 프로필, 기업 과제, 공동 연구센터를 검색하세요.",
    skip_to_content: "본문으로 건너뛰기",
    main_navigation: "주 메뉴",
    language: "언어",
    api_docs: "API 문서",
    search_heading: "검색",
    search_label: "검색어",
    search_placeholder: "예: GPU clusters, 반도체, 半導體製程",
    search_button: "검색",
    search_what: "검색 대상",
    type_faculty: "교수",
    type_need: "기업 과제",
    type_center: "연구센터",
    results: "결과 {n}건",
    one_result: "결과 {n}건",
    results_any_word: "모든 단어를 포함한 결과가 없어, 일부 단어를 포함한 결과를 보여 줍니다.",
    no_results: "결과가 없습니다. 검색어를 줄이거나 바꿔 보세요.",
    filters: "필터",
    clear_filters: "필터 지우기",
    previous: "이전",
    next: "다음",
    page: "{n}쪽",
    pages: "쪽",
    facet_university: "대학",
    facet_company: "기업",
    facet_department: "학과",
    facet_keyword: "키워드",
    facet_collaboration_type: "협력 형태",
    facet_status: "상태",
    field_title: "이름",
    field_keywords: "키워드",
    field_body: "본문",
    bad_search: "이 검색은 실행할 수 없습니다:",
    public_only: "공개된 정보만 표시됩니다.",
    not_found: "해당 페이지가 없습니다.",
    go_home: "첫 페이지로",
    sign_in: "로그인",
    sign_out: "로그아웃",
    email: "이메일",
    password: "비밀번호",
    signed_in_as: "{n} 님으로 로그인됨",
    wrong_credentials: "이메일 또는 비밀번호가 틀렸습니다.",
    too_many_attempts: "실패한 시도가 너무 많습니다. 잠시 후 다시 시도하세요.",
    form_expired: "양식이 만료되었습니다. 다시 시도하세요.",
    sign_in_intro: "소속 기관 관리자가 발급한 계정을 사용하세요.",
    unavailable: "지금은 서비스가 응답할 수 없습니다. 잠시 후 다시 시도하세요.",
    your_needs: "우리 회사의 과제",
    your_profile: "내 프로필",
    engagements: "협력 진행",
    post_need: "과제 등록",
    no_needs_yet: "아직 등록한 과제가 없습니다.",
    not_company_member: "과제는 기업의 관리자와 담당자만 등록할 수 있습니다.",
    status: "상태",
    visibility: "공개 범위",
    deadline: "마감일",
    summary: "요약",
    description: "상세 설명",
    keywords_hint: "쉼표로 구분하며, 어떤 언어로 써도 됩니다.",
    collaboration_types: "협력 방식",
    budget: "예산",
    budget_min: "최소",
    budget_max: "최대",
    currency: "통화 (ISO 코드)",
    duration_months: "기간 (개월)",
    location: "장소",
    remote: "원격 협력 가능",
    visibility_public_hint: "로그인하지 않은 사람도 누구나 찾을 수 있습니다.",
    visibility_members_hint: "Liaison에 로그인한 사용자만 찾을 수 있습니다.",
    visibility_confidential_hint: "우리 회사와 초대한 교수만 볼 수 있습니다. 매칭은 그대로 이루어지며 순위는 우리 회사만 봅니다.",
    draft_hint: "공개하기 전까지 우리 회사만 봅니다.",
    open_hint: "공개 범위 안에서 바로 매칭되고 보입니다.",
    form_problems: "저장하지 못했습니다:",
    not_a_number: "정수가 아닙니다",
    move_need_to: "{n}(으)로 변경",
    interested_as: "관심 있음 ({n})",
    ranked_professors: "적합한 교수 (높은 순)",
    candidates: "{n}명의 프로필이 이 과제와 단어를 공유합니다.",
    no_matches: "아직 맞는 항목이 없습니다.",
    shortlist: "후보에 추가",
    invite: "초대",
    follow_engagement: "진행 보기",
    why_not_heading: "이 교수는 왜 목록에 없나요?",
    why_not_label: "교수 이름",
    why_not_button: "찾기",
    listed_for_need: "이 교수는 과제 목록에 들 수 있습니다. 순위는 다른 교수들의 점수에 따라 정해집니다.",
    not_listed_for_need: "이 교수는 과제 목록에 들지 않습니다.",
    back_to_need: "과제로 돌아가기",
    score: "점수",
    profile_score: "프로필",
    best_publication_score: "최고 논문",
    words_that_count: "점수를 만든 단어",
    word: "단어",
    share: "비중",
    found_in: "나온 곳",
    field_publications: "논문",
    matching_publications: "맞는 논문",
    shared_keywords: "공통 키워드",
    why_no_shared_terms: "공통 단어가 없습니다.",
    why_below_min_score: "최소 점수 미만입니다.",
    why_filtered_out: "필터로 제외되었습니다.",
    why_need_not_open: "과제가 공개 상태가 아닙니다.",
    why_not_visible_to_faculty: "교수가 이 과제를 볼 수 없습니다.",
    last_change: "마지막 변경",
    no_engagements: "아직 진행 중인 협력이 없습니다.",
    answer_interested: "관심 있음",
    answer_decline: "거절",
    record_agreement: "합의 기록",
    end_engagement: "종료",
    decline_reason: "사유",
    decline_text: "직접 쓰기 (선택, ‘기타’는 필수)",
    history: "이력",
    moved_meanwhile: "그사이 ‘{n}’(으)로 바뀌었습니다. 다시 확인해 주세요.",
    not_allowed: "허용되지 않음",
    refused: "처리할 수 없습니다",
    no_own_profile: "아직 계정에 연결된 프로필이 없습니다. 소속 대학의 산학협력단에 연결을 요청하세요.",
    research_interests: "연구 관심사",
    availability: "가능한 협력",
    not_available: "현재 불가",
    edit_profile: "프로필 수정",
    invitations_to_answer: "답변할 초대",
    needs_that_fit: "맞는 공개 과제 (높은 순)",
    academic_title: "직위",
    bio: "소개",
    publications_hint: "한 줄에 하나: 연도 | 제목 | 학술지 | DOI (연도, 학술지, DOI는 생략 가능).",
    profile_public_hint: "로그인하지 않은 사람도 누구나 찾을 수 있습니다.",
    profile_members_hint: "Liaison에 로그인한 사용자만 찾을 수 있습니다.",
    save: "저장",
    changed_meanwhile: "양식을 연 뒤 다른 사람이 프로필을 바꿨습니다. 아래는 내가 입력한 내용이며, 다시 저장하면 그 변경을 덮어씁니다.",
    need_title: "제목",
    need: "과제",
    professor: "교수",
    need_hidden: "더 이상 볼 수 없는 과제",
    profile_hidden: "볼 수 없는 프로필",
    need_listed_for_faculty: "이 과제는 교수 본인의 맞는 과제 목록에 나옵니다.",
    need_not_listed_for_faculty: "이 과제는 교수 본인의 맞는 과제 목록에 나오지 않습니다.",
    in_the_needs_list: "이 과제의 교수 목록",
    in_the_professors_list: "교수의 맞는 과제 목록",
    values: &[
        ("draft", "초안"),
        ("open", "공개"),
        ("closed", "종료"),
        ("awarded", "선정 완료"),
        ("shortlisted", "후보"),
        ("invited", "초대됨"),
        ("interested", "관심 있음"),
        ("declined", "거절됨"),
        ("agreed", "합의"),
        ("public", "전체 공개"),
        ("members", "회원 공개"),
        ("confidential", "비공개"),
        ("sponsored_research", "위탁 연구"),
        ("consulting", "자문"),
        ("joint_lab", "공동 연구소"),
        ("student_internships", "학생 인턴십"),
        ("licensing", "기술 이전"),
        ("no_capacity", "여력 없음"),
        ("out_of_scope", "연구 분야 밖"),
        ("timeline", "일정이 맞지 않음"),
        ("budget", "예산이 맞지 않음"),
        ("confidentiality_terms", "비밀 유지 조건"),
        ("other", "기타"),
    ],
};

pub const ZH_HANT: Messages = Messages {
    tagline: "串連產業與學界",
    intro: "Liaison 以英文、韓文與中文媒合企業的研究需求與教授的專長。請在下方搜尋公開的教授簡介、企業需求與聯合研究中心。",
    skip_to_content: "跳至主要內容",
    main_navigation: "主選單",
    language: "語言",
    api_docs: "API 文件",
    search_heading: "搜尋",
    search_label: "搜尋字詞",
    search_placeholder: "例如：GPU clusters、반도체、半導體製程",
    search_button: "搜尋",
    search_what: "搜尋範圍",
    type_faculty: "教授",
    type_need: "企業需求",
    type_center: "研究中心",
    results: "共 {n} 筆結果",
    one_result: "共 {n} 筆結果",
    results_any_word: "沒有結果包含所有字詞；以下為包含部分字詞的結果。",
    no_results: "查無結果。請減少或更換字詞。",
    filters: "篩選",
    clear_filters: "清除篩選",
    previous: "上一頁",
    next: "下一頁",
    page: "第 {n} 頁",
    pages: "頁碼",
    facet_university: "大學",
    facet_company: "企業",
    facet_department: "系所",
    facet_keyword: "關鍵字",
    facet_collaboration_type: "合作方式",
    facet_status: "狀態",
    field_title: "名稱",
    field_keywords: "關鍵字",
    field_body: "內文",
    bad_search: "無法執行此搜尋：",
    public_only: "僅顯示公開資料。",
    not_found: "找不到此頁面。",
    go_home: "回到首頁",
    sign_in: "登入",
    sign_out: "登出",
    email: "電子郵件",
    password: "密碼",
    signed_in_as: "已以 {n} 登入",
    wrong_credentials: "電子郵件或密碼錯誤。",
    too_many_attempts: "失敗次數過多，請稍後再試。",
    form_expired: "此表單已失效，請再試一次。",
    sign_in_intro: "請使用貴單位管理員提供的帳號。",
    unavailable: "服務目前無法回應，請稍後再試。",
    your_needs: "貴公司的需求",
    your_profile: "我的個人檔案",
    engagements: "合作進度",
    post_need: "刊登需求",
    no_needs_yet: "貴公司尚未刊登任何需求。",
    not_company_member: "只有企業的管理員與職員可以刊登需求。",
    status: "狀態",
    visibility: "可見範圍",
    deadline: "截止日期",
    summary: "摘要",
    description: "詳細說明",
    keywords_hint: "以逗號分隔，任何語言皆可。",
    collaboration_types: "合作方式",
    budget: "預算",
    budget_min: "最低",
    budget_max: "最高",
    currency: "幣別（ISO 代碼）",
    duration_months: "期間（月）",
    location: "地點",
    remote: "可遠端合作",
    visibility_public_hint: "任何人（包括未登入者）都能找到。",
    visibility_members_hint: "僅 Liaison 的登入使用者能找到。",
    visibility_confidential_hint: "只有貴公司與受邀的教授看得到；仍會進行媒合，排名只有貴公司看得到。",
    draft_hint: "開放之前只有貴公司看得到。",
    open_hint: "立即依可見範圍進行媒合並顯示。",
    form_problems: "無法儲存此表單：",
    not_a_number: "不是整數",
    move_need_to: "改為「{n}」",
    interested_as: "我有興趣（{n}）",
    ranked_professors: "合適的教授（由高至低）",
    candidates: "共有 {n} 份檔案與此需求有相同的詞。",
    no_matches: "目前沒有合適的項目。",
    shortlist: "加入候選",
    invite: "邀請",
    follow_engagement: "查看進度",
    why_not_heading: "為什麼某位教授不在名單上？",
    why_not_label: "教授姓名",
    why_not_button: "尋找",
    listed_for_need: "此教授符合列入需求清單的條件；排名取決於其他人的分數。",
    not_listed_for_need: "此教授不符合列入需求清單的條件。",
    back_to_need: "回到需求",
    score: "分數",
    profile_score: "檔案",
    best_publication_score: "最佳論文",
    words_that_count: "構成分數的詞",
    word: "詞",
    share: "比重",
    found_in: "出現於",
    field_publications: "論文",
    matching_publications: "相符的論文",
    shared_keywords: "共同關鍵字",
    why_no_shared_terms: "沒有共同的詞。",
    why_below_min_score: "低於最低分數。",
    why_filtered_out: "被篩選條件排除。",
    why_need_not_open: "此需求尚未開放。",
    why_not_visible_to_faculty: "教授看不到此需求。",
    last_change: "最後變更",
    no_engagements: "目前沒有合作。",
    answer_interested: "有興趣",
    answer_decline: "婉拒",
    record_agreement: "記錄協議",
    end_engagement: "結束",
    decline_reason: "原因",
    decline_text: "補充說明（選填；選「其他」時必填）",
    history: "歷程",
    moved_meanwhile: "在此期間已變為「{n}」，請重新查看後再操作。",
    not_allowed: "不允許",
    refused: "無法完成",
    no_own_profile: "您的帳號尚未連結檔案，可請學校的產學合作處連結。",
    research_interests: "研究興趣",
    availability: "可參與的合作",
    not_available: "目前無法",
    edit_profile: "編輯檔案",
    invitations_to_answer: "待回覆的邀請",
    needs_that_fit: "合適的開放需求（由高至低）",
    academic_title: "職稱",
    bio: "簡介",
    publications_hint: "每行一篇：年份 | 標題 | 期刊 | DOI（年份、期刊與 DOI 可省略）。",
    profile_public_hint: "任何人（包括未登入者）都能找到。",
    profile_members_hint: "僅 Liaison 的登入使用者能找到。",
    save: "儲存",
    changed_meanwhile: "開啟表單後有人修改了檔案。以下是您的修改，再次儲存將取代對方的變更。",
    need_title: "標題",
    need: "需求",
    professor: "教授",
    need_hidden: "您已無法查看的需求",
    profile_hidden: "您無法查看的檔案",
    need_listed_for_faculty: "此需求出現在教授本人的合適需求清單中。",
    need_not_listed_for_faculty: "此需求未出現在教授本人的合適需求清單中。",
    in_the_needs_list: "此需求的教授清單",
    in_the_professors_list: "教授的合適需求清單",
    values: &[
        ("draft", "草稿"),
        ("open", "開放"),
        ("closed", "已結束"),
        ("awarded", "已決標"),
        ("shortlisted", "候選"),
        ("invited", "已邀請"),
        ("interested", "有興趣"),
        ("declined", "已婉拒"),
        ("agreed", "已達成協議"),
        ("public", "公開"),
        ("members", "僅限會員"),
        ("confidential", "機密"),
        ("sponsored_research", "委託研究"),
        ("consulting", "顧問"),
        ("joint_lab", "聯合實驗室"),
        ("student_internships", "學生實習"),
        ("licensing", "技術授權"),
        ("no_capacity", "目前無餘力"),
        ("out_of_scope", "不在研究範圍"),
        ("timeline", "時程不合"),
        ("budget", "預算不合"),
        ("confidentiality_terms", "保密條款"),
        ("other", "其他"),
    ],
};

impl Messages {
    /// The name of a stored value (a status, state, kind or reason) by its wire name; the
    /// wire name itself if none is written (a test makes sure every one is).
    pub fn value<'a>(&self, wire: &'a str) -> &'a str
    where
        'static: 'a,
    {
        self.values
            .iter()
            .find(|(w, _)| *w == wire)
            .map_or(wire, |(_, name)| *name)
    }

    /// `template` with `{n}` replaced.
    pub fn count(template: &str, n: impl std::fmt::Display) -> String {
        template.replace("{n}", &n.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every string is written in every language, and the translations are not English left
    /// in place (the placeholder example and the brand aside).
    #[test]
    fn every_string_is_translated() {
        for lang in Lang::ALL {
            for (key, text) in lang.messages().all() {
                assert!(!text.trim().is_empty(), "{key} is empty in {}", lang.tag());
            }
        }
        for lang in [Lang::Ko, Lang::ZhHant] {
            for ((key, en), (_, other)) in EN.all().into_iter().zip(lang.messages().all()) {
                assert_ne!(en, other, "{key} is English in {}", lang.tag());
            }
        }
    }

    /// Every value a page names (need statuses, engagement states, visibilities, ways of
    /// working together, reasons for declining) has a name in every language.
    #[test]
    fn every_value_is_named() {
        use crate::domain::stored::{
            CollaborationType, DeclineReason, EngagementState, NeedStatus, NeedVisibility,
            ProfileVisibility,
        };
        let wires: Vec<&str> = NeedStatus::ALL
            .iter()
            .map(|v| v.as_str())
            .chain(EngagementState::ALL.iter().map(|v| v.as_str()))
            .chain(NeedVisibility::ALL.iter().map(|v| v.as_str()))
            .chain(ProfileVisibility::ALL.iter().map(|v| v.as_str()))
            .chain(CollaborationType::ALL.iter().map(|v| v.as_str()))
            .chain(DeclineReason::ALL.iter().map(|v| v.as_str()))
            .collect();
        for lang in Lang::ALL {
            for w in &wires {
                assert!(
                    lang.messages().values.iter().any(|(v, _)| v == w),
                    "{w} has no name in {}",
                    lang.tag()
                );
            }
        }
        for lang in [Lang::Ko, Lang::ZhHant] {
            for w in &wires {
                assert_ne!(
                    EN.value(w),
                    lang.messages().value(w),
                    "{w} is English in {}",
                    lang.tag()
                );
            }
        }
    }

    #[test]
    fn the_language_is_the_parameter_or_the_best_accepted() {
        assert_eq!(Lang::choose(Some("ko"), Some("en")), Lang::Ko);
        assert_eq!(
            Lang::choose(Some("xx"), Some("zh-TW,en;q=0.5")),
            Lang::ZhHant
        );
        assert_eq!(Lang::choose(None, Some("fr, en;q=0.3, ko;q=0.8")), Lang::Ko);
        assert_eq!(Lang::choose(None, Some("zh-CN")), Lang::ZhHant);
        assert_eq!(Lang::choose(None, Some("ko;q=0, fr")), Lang::En);
        assert_eq!(Lang::choose(None, None), Lang::En);
    }
}
