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

diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(memberships -> organizations (organization_id));
diesel::allow_tables_to_appear_in_same_query!(organizations, users, memberships, refresh_tokens);
