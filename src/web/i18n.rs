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

/// Every string of the interface. Counts are written with `{n}`.
pub struct Messages {
    pub tagline: &'static str,
    pub intro: &'static str,
    pub skip_to_content: &'static str,
    pub main_navigation: &'static str,
    pub language: &'static str,
    pub api_docs: &'static str,
    pub search_heading: &'static str,
    pub search_label: &'static str,
    pub search_placeholder: &'static str,
    pub search_button: &'static str,
    pub search_what: &'static str,
    pub type_faculty: &'static str,
    pub type_need: &'static str,
    pub type_center: &'static str,
    pub results: &'static str,
    pub results_any_word: &'static str,
    pub no_results: &'static str,
    pub filters: &'static str,
    pub clear_filters: &'static str,
    pub previous: &'static str,
    pub next: &'static str,
    pub page: &'static str,
    pub pages: &'static str,
    pub facet_university: &'static str,
    pub facet_company: &'static str,
    pub facet_department: &'static str,
    pub facet_keyword: &'static str,
    pub facet_collaboration_type: &'static str,
    pub facet_status: &'static str,
    pub field_title: &'static str,
    pub field_keywords: &'static str,
    pub field_body: &'static str,
    pub bad_search: &'static str,
    pub public_only: &'static str,
    pub not_found: &'static str,
    pub go_home: &'static str,
    pub sign_in: &'static str,
    pub sign_out: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub signed_in_as: &'static str,
    pub wrong_credentials: &'static str,
    pub too_many_attempts: &'static str,
    pub form_expired: &'static str,
    pub sign_in_intro: &'static str,
    pub unavailable: &'static str,
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
};

impl Messages {
    /// Every string with its field name, for the completeness test.
    pub fn all(&self) -> [(&'static str, &'static str); 46] {
        [
            ("tagline", self.tagline),
            ("intro", self.intro),
            ("skip_to_content", self.skip_to_content),
            ("main_navigation", self.main_navigation),
            ("language", self.language),
            ("api_docs", self.api_docs),
            ("search_heading", self.search_heading),
            ("search_label", self.search_label),
            ("search_placeholder", self.search_placeholder),
            ("search_button", self.search_button),
            ("search_what", self.search_what),
            ("type_faculty", self.type_faculty),
            ("type_need", self.type_need),
            ("type_center", self.type_center),
            ("results", self.results),
            ("results_any_word", self.results_any_word),
            ("no_results", self.no_results),
            ("filters", self.filters),
            ("clear_filters", self.clear_filters),
            ("previous", self.previous),
            ("next", self.next),
            ("page", self.page),
            ("pages", self.pages),
            ("facet_university", self.facet_university),
            ("facet_company", self.facet_company),
            ("facet_department", self.facet_department),
            ("facet_keyword", self.facet_keyword),
            ("facet_collaboration_type", self.facet_collaboration_type),
            ("facet_status", self.facet_status),
            ("field_title", self.field_title),
            ("field_keywords", self.field_keywords),
            ("field_body", self.field_body),
            ("bad_search", self.bad_search),
            ("public_only", self.public_only),
            ("not_found", self.not_found),
            ("go_home", self.go_home),
            ("sign_in", self.sign_in),
            ("sign_out", self.sign_out),
            ("email", self.email),
            ("password", self.password),
            ("signed_in_as", self.signed_in_as),
            ("wrong_credentials", self.wrong_credentials),
            ("too_many_attempts", self.too_many_attempts),
            ("form_expired", self.form_expired),
            ("sign_in_intro", self.sign_in_intro),
            ("unavailable", self.unavailable),
        ]
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
