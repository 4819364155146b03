//! Table definitions, written by hand to match `migrations/sqlite` and `migrations/postgres`
//! (only types both backends share: Text, BigInt, Integer, Bool, Timestamp).

diesel::table! {
    organizations (id) {
        id -> Text,
        kind -> Text,
        name -> Text,
        local_name -> Nullable<Text>,
        country -> Text,
        website -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        email_key -> Text,
        display_name -> Text,
        password_hash -> Text,
        is_platform_operator -> Bool,
        disabled -> Bool,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    memberships (id) {
        id -> Text,
        user_id -> Text,
        organization_id -> Text,
        role -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    member_invitations (id) {
        id -> Text,
        organization_id -> Text,
        email -> Text,
        email_key -> Text,
        role -> Text,
        status -> Text,
        invited_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    web_sessions (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        csrf -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        family_id -> Text,
        user_id -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    faculty_profiles (id) {
        id -> Text,
        university_id -> Text,
        owner_user_id -> Nullable<Text>,
        external_id -> Nullable<Text>,
        name -> Text,
        local_name -> Nullable<Text>,
        title -> Nullable<Text>,
        department -> Nullable<Text>,
        email -> Nullable<Text>,
        orcid -> Nullable<Text>,
        research_interests -> Nullable<Text>,
        bio -> Nullable<Text>,
        languages -> Text,
        visibility -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        openalex_id -> Nullable<Text>,
    }
}

diesel::table! {
    faculty_keywords (faculty_id, position) {
        faculty_id -> Text,
        position -> Integer,
        keyword -> Text,
        keyword_key -> Text,
    }
}

diesel::table! {
    faculty_availability (faculty_id, collaboration_type) {
        faculty_id -> Text,
        collaboration_type -> Text,
    }
}

diesel::table! {
    publications (faculty_id, position) {
        faculty_id -> Text,
        position -> Integer,
        title -> Text,
        #[sql_name = "abstract"]
        abstract_ -> Nullable<Text>,
        year -> Nullable<Integer>,
        venue -> Nullable<Text>,
        doi -> Nullable<Text>,
        source -> Text,
        source_id -> Nullable<Text>,
        recorded_at -> Nullable<Timestamp>,
        analysed -> Nullable<Binary>,
    }
}

diesel::table! {
    faculty_field_sources (faculty_id, field) {
        faculty_id -> Text,
        field -> Text,
        source -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    publication_tombstones (faculty_id, work_key) {
        faculty_id -> Text,
        work_key -> Text,
        title_key -> Text,
        deleted_at -> Timestamp,
    }
}

diesel::table! {
    faculty_sync_state (faculty_id, source) {
        faculty_id -> Text,
        source -> Text,
        attempted_at -> Timestamp,
        succeeded_at -> Nullable<Timestamp>,
        error_code -> Nullable<Text>,
        error_detail -> Nullable<Text>,
    }
}

diesel::table! {
    sync_jobs (id) {
        id -> Text,
        university_id -> Nullable<Text>,
        kind -> Text,
        requested_by -> Nullable<Text>,
        sources -> Text,
        state -> Text,
        total -> Integer,
        processed -> Integer,
        updated -> Integer,
        unchanged -> Integer,
        failed -> Integer,
        cursor -> Nullable<Text>,
        errors -> Text,
        detail -> Nullable<Text>,
        runner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    needs (id) {
        id -> Text,
        company_id -> Text,
        title -> Text,
        summary -> Nullable<Text>,
        description -> Nullable<Text>,
        budget_min -> Nullable<BigInt>,
        budget_max -> Nullable<BigInt>,
        currency -> Nullable<Text>,
        duration_months -> Nullable<Integer>,
        deadline -> Nullable<Date>,
        location -> Nullable<Text>,
        remote -> Bool,
        status -> Text,
        visibility -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        compute_direction -> Nullable<Text>,
        compute_amount -> Nullable<BigInt>,
        compute_unit -> Nullable<Text>,
        compute_gpu_model -> Nullable<Text>,
    }
}

diesel::table! {
    need_keywords (need_id, position) {
        need_id -> Text,
        position -> Integer,
        keyword -> Text,
        keyword_key -> Text,
    }
}

diesel::table! {
    need_collaboration (need_id, collaboration_type) {
        need_id -> Text,
        collaboration_type -> Text,
    }
}

diesel::table! {
    need_invitations (need_id, faculty_id) {
        need_id -> Text,
        faculty_id -> Text,
        invited_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    search_outbox (seq) {
        seq -> BigInt,
        entity -> Text,
        entity_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    centers (id) {
        id -> Text,
        host_university_id -> Text,
        name -> Text,
        local_name -> Nullable<Text>,
        description -> Nullable<Text>,
        director_id -> Nullable<Text>,
        established_date -> Nullable<Date>,
        renewal_date -> Nullable<Date>,
        end_date -> Nullable<Date>,
        status -> Text,
        visibility -> Text,
        shared_resources -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    center_partners (center_id, company_id) {
        center_id -> Text,
        company_id -> Text,
        role -> Text,
    }
}

diesel::table! {
    center_members (center_id, faculty_id) {
        center_id -> Text,
        faculty_id -> Text,
    }
}

diesel::table! {
    center_focus_areas (center_id, position) {
        center_id -> Text,
        position -> Integer,
        focus_area -> Text,
        focus_key -> Text,
    }
}

diesel::table! {
    center_funding (center_id, position) {
        center_id -> Text,
        position -> Integer,
        year -> Integer,
        sponsor_id -> Text,
        amount_minor -> BigInt,
        currency -> Text,
    }
}

diesel::table! {
    funded_projects (id) {
        id -> Text,
        title -> Text,
        description -> Nullable<Text>,
        kind -> Text,
        sponsor_id -> Text,
        university_id -> Text,
        pi_id -> Nullable<Text>,
        center_id -> Nullable<Text>,
        need_id -> Nullable<Text>,
        engagement_id -> Nullable<Text>,
        amount_minor -> BigInt,
        currency -> Text,
        start_date -> Nullable<Date>,
        end_date -> Nullable<Date>,
        status -> Text,
        visibility -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    project_investigators (project_id, faculty_id) {
        project_id -> Text,
        faculty_id -> Text,
    }
}

diesel::table! {
    project_payments (id) {
        id -> Text,
        project_id -> Text,
        due_date -> Nullable<Date>,
        received_date -> Nullable<Date>,
        amount_minor -> BigInt,
        currency -> Text,
        status -> Text,
        note -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        at -> Timestamp,
        actor_user_id -> Nullable<Text>,
        action -> Text,
        entity -> Text,
        entity_id -> Text,
        before -> Nullable<Text>,
        after -> Nullable<Text>,
    }
}

diesel::table! {
    audit_log_organizations (organization_id, entry_id) {
        entry_id -> Text,
        organization_id -> Text,
    }
}

diesel::table! {
    engagements (id) {
        id -> Text,
        need_id -> Text,
        faculty_id -> Text,
        state -> Text,
        created_by -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    engagement_events (seq) {
        seq -> BigInt,
        engagement_id -> Text,
        from_state -> Nullable<Text>,
        to_state -> Text,
        actor_user_id -> Text,
        reason_code -> Nullable<Text>,
        reason_text -> Nullable<Text>,
        at -> Timestamp,
    }
}

diesel::table! {
    compute_resources (id) {
        id -> Text,
        owner_id -> Text,
        center_id -> Nullable<Text>,
        name -> Text,
        description -> Nullable<Text>,
        kind -> Text,
        unit -> Text,
        gpu_model -> Nullable<Text>,
        gpu_model_key -> Nullable<Text>,
        gpu_count -> Nullable<Integer>,
        period -> Text,
        capacity -> BigInt,
        academia_percent -> Integer,
        industry_percent -> Integer,
        status -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    compute_allocations (id) {
        id -> Text,
        resource_id -> Text,
        applicant_id -> Text,
        sector -> Text,
        faculty_id -> Nullable<Text>,
        requested_by -> Text,
        need_id -> Nullable<Text>,
        engagement_id -> Nullable<Text>,
        center_id -> Nullable<Text>,
        project_id -> Nullable<Text>,
        period -> Text,
        period_start -> Date,
        period_end -> Date,
        requested -> BigInt,
        approved -> Nullable<BigInt>,
        justification -> Text,
        state -> Text,
        decision_reason -> Nullable<Text>,
        quota_override_reason -> Nullable<Text>,
        scheduler_account -> Nullable<Text>,
        renewal_of -> Nullable<Text>,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    compute_usage (resource_id, job_id) {
        resource_id -> Text,
        job_id -> Text,
        allocation_id -> Text,
        account -> Text,
        user_name -> Text,
        job_partition -> Text,
        units -> BigInt,
        elapsed_seconds -> BigInt,
        charged_seconds -> BigInt,
        started_at -> Timestamp,
        ended_at -> Timestamp,
        job_state -> Text,
        imported_at -> Timestamp,
    }
}

diesel::joinable!(compute_allocations -> compute_resources (resource_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(memberships -> organizations (organization_id));
diesel::joinable!(member_invitations -> organizations (organization_id));
diesel::joinable!(faculty_keywords -> faculty_profiles (faculty_id));
diesel::joinable!(faculty_availability -> faculty_profiles (faculty_id));
diesel::joinable!(publications -> faculty_profiles (faculty_id));
diesel::joinable!(faculty_field_sources -> faculty_profiles (faculty_id));
diesel::joinable!(publication_tombstones -> faculty_profiles (faculty_id));
diesel::joinable!(faculty_sync_state -> faculty_profiles (faculty_id));
diesel::joinable!(need_keywords -> needs (need_id));
diesel::joinable!(need_collaboration -> needs (need_id));
diesel::table! {
    events (seq) {
        seq -> BigInt,
        id -> Text,
        #[sql_name = "type"]
        event_type -> Text,
        at -> Timestamp,
        entity -> Text,
        entity_id -> Text,
        audit_entry_id -> Nullable<Text>,
        actor_user_id -> Nullable<Text>,
        recipient_user_id -> Nullable<Text>,
        data -> Text,
        once_key -> Nullable<Text>,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        user_id -> Text,
        event_id -> Text,
        #[sql_name = "type"]
        event_type -> Text,
        entity -> Text,
        entity_id -> Text,
        title -> Text,
        data -> Text,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
        mailed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    mail_preferences (user_id) {
        user_id -> Text,
        language -> Text,
        unsubscribe_token -> Text,
        daily_sent_at -> Nullable<Timestamp>,
        weekly_sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> Text,
        user_id -> Text,
        kind -> Text,
        subject -> Text,
        text_body -> Text,
        html_body -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        runner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    notification_settings (user_id, event_type) {
        user_id -> Text,
        event_type -> Text,
        delivery -> Text,
    }
}

diesel::table! {
    saved_alerts (id) {
        id -> Text,
        user_id -> Text,
        name -> Text,
        kind -> Text,
        target -> Text,
        search -> Nullable<Text>,
        need_id -> Nullable<Text>,
        faculty_id -> Nullable<Text>,
        min_score -> Nullable<Double>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    alert_hits (alert_id, entity_id) {
        alert_id -> Text,
        entity_id -> Text,
        entity -> Text,
        title -> Text,
        score -> Nullable<Double>,
        found_at -> Timestamp,
    }
}

diesel::table! {
    workers (name) {
        name -> Text,
        position -> BigInt,
        holder -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        organization_id -> Text,
        url -> Text,
        description -> Nullable<Text>,
        event_types -> Text,
        secret -> Text,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        endpoint_id -> Text,
        event_id -> Text,
        event_type -> Text,
        payload -> Text,
        state -> Text,
        attempts -> Integer,
        retry_base -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        runner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_attempts (delivery_id, attempt) {
        delivery_id -> Text,
        attempt -> Integer,
        at -> Timestamp,
        status -> Nullable<Integer>,
        latency_ms -> Integer,
        error -> Nullable<Text>,
        response -> Nullable<Text>,
    }
}

diesel::joinable!(need_invitations -> needs (need_id));
diesel::joinable!(need_invitations -> faculty_profiles (faculty_id));
diesel::joinable!(center_partners -> centers (center_id));
diesel::joinable!(center_members -> centers (center_id));
diesel::joinable!(center_members -> faculty_profiles (faculty_id));
diesel::joinable!(center_focus_areas -> centers (center_id));
diesel::joinable!(center_funding -> centers (center_id));
diesel::joinable!(project_investigators -> funded_projects (project_id));
diesel::joinable!(project_investigators -> faculty_profiles (faculty_id));
diesel::joinable!(project_payments -> funded_projects (project_id));
diesel::joinable!(audit_log_organizations -> audit_log (entry_id));
diesel::joinable!(engagements -> needs (need_id));
diesel::joinable!(engagements -> faculty_profiles (faculty_id));
diesel::joinable!(engagement_events -> engagements (engagement_id));

diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    users,
    memberships,
    member_invitations,
    refresh_tokens,
    faculty_profiles,
    faculty_keywords,
    faculty_availability,
    publications,
    needs,
    need_keywords,
    need_collaboration,
    need_invitations,
    search_outbox,
    centers,
    center_partners,
    center_members,
    center_focus_areas,
    center_funding,
    funded_projects,
    project_investigators,
    project_payments,
    audit_log,
    audit_log_organizations,
    engagements,
    engagement_events,
    compute_resources,
    compute_allocations,
    compute_usage,
    faculty_field_sources,
    publication_tombstones,
    faculty_sync_state,
    sync_jobs,
    events,
    notifications,
    notification_settings,
    saved_alerts,
    alert_hits,
    web_sessions,
    workers,
    webhook_endpoints,
    webhook_deliveries,
    webhook_attempts,
    mail_preferences,
    mail_outbox,
);
