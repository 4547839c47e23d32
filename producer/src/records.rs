//! Generating records: ids, weighted locations, reproducible with a seed.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use model::ModelOne;

/// Location names with relative weights, e.g. `Car:2,House,Diner`.
#[derive(Debug, Clone, PartialEq)]
pub struct Locations {
    names: Vec<String>,
    /// Cumulative weights, for one random draw per record.
    cumulative: Vec<u32>,
}

impl Locations {
    /// Parses `NAME[:WEIGHT],...`; weights default to 1.
    ///
    /// # Errors
    /// A message naming the bad entry.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut names = Vec::new();
        let mut cumulative = Vec::new();
        let mut total = 0u32;
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (name, weight) = match entry.split_once(':') {
                Some((name, weight)) => {
                    let weight: u32 = weight.trim().parse().map_err(|_| {
                        format!("weight of `{name}` is not a whole number: `{weight}`")
                    })?;
                    (name.trim(), weight)
                }
                None => (entry, 1),
            };
            if name.is_empty() || weight == 0 {
                return Err(format!("`{entry}` needs a name and a weight above 0"));
            }
            total = total.checked_add(weight).ok_or("weights are too large")?;
            names.push(name.to_owned());
            cumulative.push(total);
        }
        if names.is_empty() {
            return Err("at least one location is needed".into());
        }
        Ok(Self { names, cumulative })
    }

    /// The location names, in the order given.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    fn pick(&self, rng: &mut StdRng) -> &str {
        let total = *self.cumulative.last().expect("never empty");
        let draw = rng.random_range(0..total);
        let index = self.cumulative.partition_point(|&c| c <= draw);
        &self.names[index]
    }
}

impl Default for Locations {
    /// The article's three, equally likely.
    fn default() -> Self {
        Self::parse("Car,House,Diner").expect("valid")
    }
}

/// Makes records; the same seed gives the same ids and locations.
pub struct RecordSource {
    rng: StdRng,
    locations: Locations,
}

impl RecordSource {
    pub fn new(locations: Locations, seed: Option<u64>) -> Self {
        let rng = match seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        };
        Self { rng, locations }
    }

    /// The next record, created now.
    pub fn next_record(&mut self) -> ModelOne {
        let id = uuid::Builder::from_random_bytes(self.rng.random()).into_uuid();
        let location = self.locations.pick(&mut self.rng).to_owned();
        ModelOne::with_id(id.to_string(), location, chrono::Utc::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_sources_repeat() {
        let mut a = RecordSource::new(Locations::default(), Some(7));
        let mut b = RecordSource::new(Locations::default(), Some(7));
        for _ in 0..100 {
            let (x, y) = (a.next_record(), b.next_record());
            assert_eq!((x.id, x.read_location), (y.id, y.read_location));
        }
    }

    #[test]
    fn weights_shape_the_mix() {
        let mut source = RecordSource::new(Locations::parse("Car:3, House:1").unwrap(), Some(1));
        let cars = (0..10_000)
            .filter(|_| source.next_record().read_location == "Car")
            .count();
        assert!((7_000..8_000).contains(&cars), "{cars}");
    }

    #[test]
    fn bad_location_specs_are_refused() {
        assert!(Locations::parse("").is_err());
        assert!(Locations::parse("Car:0").is_err());
        assert!(Locations::parse("Car:x").unwrap_err().contains("Car"));
    }
}
