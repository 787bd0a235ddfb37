//! Compact storage for the in-memory indexes, which hold one entry per published posting and per
//! listed candidate in every replica:
//!
//! - `Interned`: values many entries share (a headline, a location, a set of workplaces), kept
//!   once and numbered, so each entry holds a 4-byte number instead of its own copy or a pointer.
//!   Each value counts the entries holding it and is dropped with the last, so a long-running
//!   replica following edits does not keep every value it ever saw; a freed number is given to
//!   the next new value.
//! - `Lists`: every entry's short list (its skills) in one vector, each entry holding where its
//!   own starts and how long it is: 8 bytes and no allocation of its own, where a boxed slice
//!   takes 16 and an allocation (and leaves the heap fragmented by the ones freed).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

/// The number of no value (`Option::None`).
pub const NONE: u32 = u32::MAX;

pub struct Interned<T: ?Sized> {
    /// Each number's value and how many items hold it (`None` once free).
    values: Vec<Option<(Arc<T>, u32)>>,
    numbers: HashMap<Arc<T>, u32>,
    free: Vec<u32>,
}

impl<T: ?Sized> Default for Interned<T> {
    fn default() -> Self {
        Self { values: Vec::new(), numbers: HashMap::new(), free: Vec::new() }
    }
}

impl<T: ?Sized + Hash + Eq> Interned<T> {
    /// The number of `value`, held once more.
    pub fn hold(&mut self, value: &T) -> u32
    where
        Arc<T>: for<'a> From<&'a T>,
    {
        if let Some(&number) = self.numbers.get(value) {
            if let Some((_, held)) = &mut self.values[number as usize] {
                *held += 1;
            }
            return number;
        }
        let value: Arc<T> = Arc::from(value);
        let number = match self.free.pop() {
            Some(number) => {
                self.values[number as usize] = Some((value.clone(), 1));
                number
            }
            None => {
                self.values.push(Some((value.clone(), 1)));
                (self.values.len() - 1) as u32
            }
        };
        self.numbers.insert(value, number);
        number
    }

    /// `hold` for an optional value.
    pub fn hold_some(&mut self, value: Option<&T>) -> u32
    where
        Arc<T>: for<'a> From<&'a T>,
    {
        value.map_or(NONE, |v| self.hold(v))
    }

    /// One holder of `number` fewer; the value goes with its last holder.
    pub fn release(&mut self, number: u32) {
        let Some(slot) = self.values.get_mut(number as usize) else { return };
        let Some((value, held)) = slot else { return };
        *held -= 1;
        if *held == 0 {
            self.numbers.remove(&**value);
            *slot = None;
            self.free.push(number);
        }
    }

    /// The value numbered `number`; `None` for `NONE` or a free number.
    pub fn get(&self, number: u32) -> Option<&T> {
        self.values.get(number as usize)?.as_ref().map(|(value, _)| &**value)
    }

    /// How many distinct values are held.
    pub fn len(&self) -> usize {
        self.numbers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }
}

/// Where an entry's list is in `Lists`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    start: u32,
    len: u32,
}

impl Span {
    pub fn len(self) -> usize {
        self.len as usize
    }

    pub fn is_empty(self) -> bool {
        self.len == 0
    }
}

/// Every entry's list, one after another. A changed entry's list is added anew and its old one
/// left as dead space until `compact` packs the live ones.
pub struct Lists<T> {
    items: Vec<T>,
    dead: usize,
}

impl<T> Default for Lists<T> {
    fn default() -> Self {
        Self { items: Vec::new(), dead: 0 }
    }
}

impl<T: Copy> Lists<T> {
    /// Adds a list; its span is the entry's to keep.
    pub fn add(&mut self, list: impl IntoIterator<Item = T>) -> Span {
        let start = self.items.len();
        self.items.extend(list);
        Span { start: start as u32, len: (self.items.len() - start) as u32 }
    }

    pub fn get(&self, span: Span) -> &[T] {
        self.items.get(span.start as usize..(span.start + span.len) as usize).unwrap_or(&[])
    }

    /// Marks a list no entry keeps any longer.
    pub fn release(&mut self, span: Span) {
        self.dead += span.len();
    }

    /// Whether packing would pay: half the items are dead, or the numbers near their end.
    pub fn wants_compacting(&self) -> bool {
        self.dead > 4_096 && self.dead * 2 > self.items.len() || self.items.len() > (u32::MAX / 2) as usize
    }

    /// Packs the live lists, given every live span, and moves each span to its list's new place.
    pub fn compact<'a>(&mut self, spans: impl Iterator<Item = &'a mut Span>) {
        let mut packed = Vec::with_capacity(self.items.len() - self.dead);
        for span in spans {
            let start = packed.len() as u32;
            packed.extend_from_slice(self.get(*span));
            *span = Span { start, len: span.len };
        }
        self.items = packed;
        self.dead = 0;
    }

    /// Gives back what growing by doubling left over (after a build).
    pub fn shrink_to_fit(&mut self) {
        self.items.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_pack_their_live_spans_in_place() {
        let mut lists: Lists<u32> = Lists::default();
        let mut spans = [lists.add([1, 2, 3]), lists.add([]), lists.add([4])];
        assert_eq!(lists.get(spans[0]), [1, 2, 3]);
        assert!(spans[1].is_empty());
        assert_eq!(lists.get(spans[2]), [4]);
        // The first entry changes: its new list goes at the end, the old one is dead.
        lists.release(spans[0]);
        spans[0] = lists.add([5, 6]);
        assert_eq!(lists.items.len(), 6);
        lists.compact(spans.iter_mut());
        assert_eq!(lists.items, [5, 6, 4]);
        assert_eq!((lists.get(spans[0]), lists.get(spans[1]), lists.get(spans[2])), (&[5, 6][..], &[][..], &[4][..]));
        assert!(!lists.wants_compacting());
    }

    #[test]
    fn a_value_is_kept_once_and_goes_with_its_last_holder() {
        let mut kept: Interned<str> = Interned::default();
        let a = kept.hold("Software Engineer");
        assert_eq!(kept.hold("Software Engineer"), a);
        let b = kept.hold("Nurse");
        assert_ne!(a, b);
        assert_eq!(kept.len(), 2);
        kept.release(a);
        assert_eq!(kept.get(a), Some("Software Engineer"));
        kept.release(a);
        assert_eq!(kept.get(a), None);
        assert_eq!(kept.len(), 1);
        // The freed number goes to the next new value; the other is untouched.
        assert_eq!(kept.hold("Data Scientist"), a);
        assert_eq!(kept.get(b), Some("Nurse"));
        assert_eq!(kept.get(NONE), None);
        assert_eq!(kept.hold_some(None), NONE);
    }
}
