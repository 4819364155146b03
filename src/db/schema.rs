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
