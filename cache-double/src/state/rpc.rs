//! The one table of RPCs: every RPC the double serves, with its gRPC method
//! name, the name momento-local's fault headers use for it, and how it is
//! counted. The `/stats` names, the fault layer's matching and the hit, miss
//! and set counters all come from here, so a new RPC is one row, and the
//! services name RPCs by variant: a typo does not compile.

/// How an RPC's calls show in the hit, miss and set counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    /// A read: one hit or one miss per item it looks up (a key, or a
    /// collection), by whether the item is there.
    Read,
    /// A write: one set per item it changed.
    Write,
    /// Neither (the control plane, topics): calls and errors only.
    Calls,
}

macro_rules! rpcs {
    ($($rpc:ident = $local:literal, $counting:ident;)*) => {
        /// An RPC of the double, by its gRPC method name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Rpc {
            $($rpc,)*
            /// Any method the table does not hold (calls and errors only).
            Other,
        }

        impl Rpc {
            /// Every RPC, in the order their counters are kept.
            pub const ALL: &'static [Rpc] = &[$(Rpc::$rpc,)* Rpc::Other];

            /// The gRPC method name, as in the request path.
            pub const fn method(self) -> &'static str {
                match self {
                    $(Rpc::$rpc => stringify!($rpc),)*
                    Rpc::Other => "Other",
                }
            }

            /// The RPC a request path's method names (`Other` for any other).
            pub fn from_method(method: &str) -> Rpc {
                match method {
                    $(stringify!($rpc) => Rpc::$rpc,)*
                    _ => Rpc::Other,
                }
            }

            /// momento-local's name for it, as its `rpcs` fault header lists RPCs.
            pub const fn local_name(self) -> &'static str {
                match self {
                    $(Rpc::$rpc => $local,)*
                    Rpc::Other => "",
                }
            }

            pub const fn counting(self) -> Counting {
                match self {
                    $(Rpc::$rpc => Counting::$counting,)*
                    Rpc::Other => Counting::Calls,
                }
            }
        }
    };
}

rpcs! {
    Get = "get", Read;
    GetWithHash = "get-with-hash", Read;
    GetBatch = "get-batch", Read;
    Set = "set", Write;
    SetBatch = "set-batch", Write;
    SetIf = "set-if", Write;
    SetIfHash = "set-if-hash", Write;
    // momento-local names SetIfNotExists after the RPC it grew out of.
    SetIfNotExists = "set-if", Write;
    Delete = "delete", Write;
    KeysExist = "keys-exist", Read;
    Increment = "increment", Write;
    UpdateTtl = "update-ttl", Write;
    ItemGetTtl = "item-get-ttl", Read;
    ItemGetType = "item-get-type", Read;
    DictionaryGet = "dictionary-get", Read;
    DictionaryFetch = "dictionary-fetch", Read;
    DictionarySet = "dictionary-set", Write;
    DictionaryIncrement = "dictionary-increment", Write;
    DictionaryDelete = "dictionary-delete", Write;
    DictionaryLength = "dictionary-length", Read;
    SetFetch = "set-fetch", Read;
    SetSample = "set-sample", Read;
    SetUnion = "set-union", Write;
    SetDifference = "set-difference", Write;
    SetContains = "set-contains", Read;
    SetLength = "set-length", Read;
    SetPop = "set-pop", Read;
    ListPushFront = "list-push-front", Write;
    ListPushBack = "list-push-back", Write;
    ListPopFront = "list-pop-front", Read;
    ListPopBack = "list-pop-back", Read;
    // momento-local calls erasing ranges list-remove, as it does ListRemove.
    ListErase = "list-remove", Write;
    ListRemove = "list-remove", Write;
    ListFetch = "list-fetch", Read;
    ListLength = "list-length", Read;
    ListConcatenateFront = "list-concatenate-front", Write;
    ListConcatenateBack = "list-concatenate-back", Write;
    ListRetain = "list-retain", Write;
    SortedSetPut = "sorted-set-put", Write;
    SortedSetFetch = "sorted-set-fetch", Read;
    SortedSetGetScore = "sorted-set-get-score", Read;
    SortedSetRemove = "sorted-set-remove", Write;
    SortedSetIncrement = "sorted-set-increment", Write;
    SortedSetGetRank = "sorted-set-get-rank", Read;
    SortedSetLength = "sorted-set-length", Read;
    SortedSetLengthByScore = "sorted-set-length-by-score", Read;
    SortedSetUnionStore = "sorted-set-union-store", Write;
    Publish = "topic-publish", Calls;
    Subscribe = "topic-subscribe", Calls;
    CreateCache = "create-cache", Calls;
    DeleteCache = "delete-cache", Calls;
    ListCaches = "list-caches", Calls;
    FlushCache = "flush-cache", Calls;
}

impl Rpc {
    /// Its place in [`Rpc::ALL`], where its counters are (the table declares
    /// the variants in that order).
    pub const fn index(self) -> usize {
        self as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_distinct_and_found_again() {
        for (i, rpc) in Rpc::ALL.iter().enumerate() {
            assert_eq!(Rpc::from_method(rpc.method()), *rpc);
            assert_eq!(rpc.index(), i);
        }
        assert_eq!(Rpc::from_method("NoSuchMethod"), Rpc::Other);
    }

    /// momento-local names an RPC by its method in kebab case, but for the
    /// aliases the table spells out.
    #[test]
    fn local_names_are_kebab_case_but_for_momento_locals_aliases() {
        let kebab = |method: &str| {
            let mut name = String::new();
            for (i, c) in method.chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    name.push('-');
                }
                name.push(c.to_ascii_lowercase());
            }
            name
        };
        let aliases = [
            Rpc::SetIfNotExists,
            Rpc::ListErase,
            Rpc::Publish,
            Rpc::Subscribe,
        ];
        for rpc in Rpc::ALL.iter().filter(|r| **r != Rpc::Other) {
            if aliases.contains(rpc) {
                assert_ne!(rpc.local_name(), kebab(rpc.method()), "{rpc:?}");
            } else {
                assert_eq!(rpc.local_name(), kebab(rpc.method()), "{rpc:?}");
            }
        }
    }
}
