"""A2 grammar topics of the German A1-B1 course (see german_a1_b1.py): explanation + exercises."""

from german_lib import grammar, multiple, short, single

PERFECT_HABEN = grammar("perfect-tense-with-haben", "The perfect tense with haben", "A2", """
    # The perfect tense (Perfekt) with haben

    In spoken German the past is usually told in the **Perfekt**: a form of **haben** (or
    *sein*, see the next topic) in position 2 and the **past participle at the end**:

    *Ich **habe** gestern Pizza **gegessen**.* — I ate pizza yesterday.

    Past participles:

    | verb type | rule | examples |
    |---|---|---|
    | regular | **ge-** stem **-t** | machen → **ge**mach**t**, kaufen → **ge**kauf**t**, arbeiten → **ge**arbeit**et** |
    | irregular | **ge-** stem **-en**, often a new vowel | sehen → **ge**seh**en**, trinken → **ge**trunk**en**, schreiben → **ge**schrieb**en** |
    | mixed | **ge-** new stem **-t** | bringen → gebracht, denken → gedacht, kennen → gekannt, wissen → gewusst |

    Most verbs form the Perfekt with **haben**, especially all verbs with an accusative object.
    Irregular participles must be learnt: *essen → gegessen, nehmen → genommen, finden → gefunden,
    lesen → gelesen, sprechen → gesprochen, schlafen → geschlafen*.
    """, [
    short("Ich habe ein Buch ___. (kaufen)", ["gekauft"], "Regular: *ge-kauf-t*."),
    short("Wir haben Kaffee ___. (trinken)", ["getrunken"], "Irregular: *trinken → getrunken*."),
    single("Hast du den Film ___?", ["gesiehst", "gesehen", "gesehet", "sehen"], "gesehen", "*sehen → gesehen*."),
    short("Sie hat den ganzen Tag ___. (arbeiten)", ["gearbeitet"], "Stem in -t → *ge-arbeit-et*."),
    single("Which sentence is correct?", ["Ich habe gegessen einen Apfel.", "Ich habe einen Apfel gegessen.", "Ich gegessen habe einen Apfel."],
           "Ich habe einen Apfel gegessen.", "The participle goes to the end."),
    short("Ich habe an dich ___. (denken)", ["gedacht"], "Mixed verb: *denken → gedacht*."),
])

PERFECT_SEIN = grammar("perfect-tense-with-sein", "The perfect tense with sein", "A2", """
    # The perfect tense with sein

    Some verbs form the Perfekt with **sein** instead of *haben*:

    1. verbs of **movement from A to B** (no accusative object): *gehen, fahren, fliegen,
       kommen, laufen, reisen, schwimmen* (to a place), *fallen*;
    2. verbs of a **change of state**: *aufstehen, einschlafen, aufwachen, werden, sterben,
       wachsen*;
    3. **sein** and **bleiben**, *passieren*.

    | | |
    |---|---|
    | *Ich **bin** nach Rom **geflogen**.* | I flew to Rome. |
    | *Er **ist** um sechs **aufgestanden**.* | He got up at six. |
    | *Wir **sind** zu Hause **geblieben**.* | We stayed at home. |
    | *Was **ist** **passiert**?* | What happened? |
    | *Sie **ist** Ärztin **geworden**.* | She became a doctor. |

    Useful participles: *gehen → gegangen, kommen → gekommen, fahren → gefahren, fliegen →
    geflogen, sein → gewesen, bleiben → geblieben, werden → geworden*.
    """, [
    single("Wir ___ nach Spanien gefahren.", ["haben", "sind", "seid", "hat"], "sind", "Movement to a place → *sein*: *wir sind gefahren*."),
    single("Ich ___ lange geschlafen.", ["bin", "habe"], "habe", "*schlafen* is not a change of place or state → *haben*."),
    short("Er ist gestern nicht ___. (kommen)", ["gekommen"], "*kommen → gekommen*."),
    short("Wo bist du ___? (sein) — Where have you been?", ["gewesen"], "*sein → gewesen*, with *sein*: *Wo bist du gewesen?*"),
    multiple("Which verbs form the Perfekt with *sein*? (Choose all that apply.)",
             ["fliegen", "essen", "bleiben", "kaufen", "aufstehen"], ["fliegen", "bleiben", "aufstehen"],
             "Movement (*fliegen*), *bleiben*, change of state (*aufstehen*) → *sein*."),
])

PARTICIPLES_PREFIX = grammar("participles-with-prefixes", "Participles of separable, inseparable and -ieren verbs", "A2", """
    # Participles with prefixes

    | verb type | rule | examples |
    |---|---|---|
    | separable | prefix + **ge** + verb | ein**ge**kauft, auf**ge**standen, an**ge**rufen, fern**ge**sehen |
    | inseparable (*be-, emp-, ent-, er-, ge-, ver-, zer-, miss-*) | **no ge-** | besucht, verstanden, erzählt, bekommen, vergessen |
    | ending in **-ieren** | **no ge-**, -t | studiert, telefoniert, fotografiert, passiert |

    - *Ich habe gestern **eingekauft**.*
    - *Hast du ihn **besucht**?*
    - *Sie hat in Berlin **studiert**.*
    - *Ich habe das Wort **vergessen**.*
    """, [
    short("Ich habe dich gestern ___. (anrufen)", ["angerufen"], "Separable: *an-ge-rufen*."),
    single("Wir haben unsere Oma ___. (besuchen)", ["gebesucht", "besucht", "besuchen", "gebesuchen"], "besucht", "*be-* is inseparable → no *ge-*."),
    short("Er hat Medizin ___. (studieren)", ["studiert"], "-ieren verbs have no *ge-*: *studiert*."),
    single("Hast du die Aufgabe ___? (verstehen)", ["geverstanden", "verstanden", "verstehet", "verstandet"], "verstanden", "*ver-* → no *ge-*; irregular: *verstanden*."),
    short("Ich bin um 7 Uhr ___. (aufstehen)", ["aufgestanden"], "Separable + irregular: *auf-ge-standen*."),
])

PRAETERITUM_SEIN = grammar("simple-past-sein-haben", "Simple past of sein and haben: war, hatte", "A2", """
    # war and hatte

    Even in speech, *sein* and *haben* (and the modal verbs) are used in the **Präteritum**
    (simple past) rather than the Perfekt:

    | | sein | haben |
    |---|---|---|
    | ich | war | hatte |
    | du | warst | hattest |
    | er/sie/es | war | hatte |
    | wir | waren | hatten |
    | ihr | wart | hattet |
    | sie/Sie | waren | hatten |

    - *Ich **war** gestern im Kino.* (more common than *ich bin … gewesen*)
    - *Wir **hatten** keine Zeit.*
    - *Wie **war** der Urlaub?*
    - *es gab* = there was / there were (from *es gibt*).
    """, [
    short("Wo ___ du gestern? (sein)", ["warst"], "*du warst*."),
    short("Wir ___ viel Spaß. (haben)", ["hatten"], "*wir hatten*."),
    single("Ich ___ letzte Woche krank.", ["war", "warst", "hatte", "bin"], "war", "*ich war* (no ending)."),
    single("___ ihr schon in Wien?", ["Wart", "Wartet", "Waren", "Warst"], "Wart", "*ihr wart*."),
    single("\"There were no tickets.\"", ["Es gab keine Karten.", "Es gibt keine Karten.", "Es war keine Karten."],
           "Es gab keine Karten.", "*es gibt* → past *es gab*."),
])

MODALS_PAST = grammar("modal-verbs-past", "Modal verbs in the past: konnte, musste, wollte", "A2", """
    # Modal verbs in the simple past

    Modal verbs are used in the **Präteritum** when talking about the past. No umlaut, add
    **-te**:

    | | können | müssen | wollen | dürfen | sollen |
    |---|---|---|---|---|---|
    | ich | konnte | musste | wollte | durfte | sollte |
    | du | konntest | musstest | wolltest | durftest | solltest |
    | er/sie/es | konnte | musste | wollte | durfte | sollte |
    | wir | konnten | mussten | wollten | durften | sollten |
    | ihr | konntet | musstet | wolltet | durftet | solltet |
    | sie/Sie | konnten | mussten | wollten | durften | sollten |

    *möchten* has no past of its own: use *wollte*. — *Ich **wollte** ins Kino gehen, aber ich
    **musste** arbeiten.*
    """, [
    short("Gestern ___ ich nicht kommen. (können)", ["konnte"], "*ich konnte* (no umlaut)."),
    short("Wir ___ lange warten. (müssen)", ["mussten"], "*wir mussten*."),
    single("Als Kind ___ er kein Gemüse essen. (wanted)", ["willte", "wollte", "wolltet", "möchtete"], "wollte", "*er wollte*."),
    single("Past of *Ich möchte einen Kaffee*:", ["Ich möchtete einen Kaffee.", "Ich wollte einen Kaffee.", "Ich mochte einen Kaffee."],
           "Ich wollte einen Kaffee.", "*möchten* uses *wollte* in the past (*mochte* is the past of *mögen* = liked)."),
    short("___ du als Kind lange fernsehen? (dürfen)", ["Durftest"], "*du durftest*."),
])

DATIVE = grammar("dative-case", "The dative case (indirect object)", "A2", """
    # The dative

    The **indirect object** — usually the person who receives something — is in the **dative**:

    *Ich gebe **dem** Mann das Buch.* — I give the man the book.

    | | nominative | accusative | dative |
    |---|---|---|---|
    | masculine | der / ein | den / einen | **dem / einem** |
    | feminine | die / eine | die / eine | **der / einer** |
    | neuter | das / ein | das / ein | **dem / einem** |
    | plural | die / – | die / – | **den / –** + **-n** |

    - In the dative plural the noun adds **-n** (unless it ends in -n or -s): *mit den Kinder**n***.
    - Possessives and *kein* take the same endings: *meinem Vater, meiner Mutter, keinen Kindern*.
    - Verbs with two objects: *geben, schenken, zeigen, schicken, erklären, bringen* —
      person in the dative, thing in the accusative: *Sie zeigt **ihrer Freundin** **die Stadt***.
    """, [
    single("Ich schenke ___ Vater eine Uhr.", ["mein", "meinen", "meinem", "meiner"], "meinem", "*der Vater*, dative → *meinem Vater*."),
    single("Er hilft ___ Frau.", ["die", "der", "dem", "den"], "der", "Feminine dative: *der Frau*."),
    short("Wir spielen mit den ___. (das Kind, plural)", ["Kindern"], "Dative plural adds -n: *den Kindern*."),
    single("Sie erklärt ___ Kind die Aufgabe.", ["das", "dem", "den", "der"], "dem", "*das Kind*, dative → *dem Kind*."),
    short("Ich gebe ___ Lehrerin das Heft. (the)", ["der"], "*die Lehrerin*, dative → *der Lehrerin*."),
])

DATIVE_VERBS = grammar("dative-verbs", "Verbs with the dative: helfen, danken, gefallen", "A2", """
    # Verbs that take the dative

    Some verbs take only a **dative** object, although English uses a direct object:

    | verb | | example |
    |---|---|---|
    | helfen | to help | *Ich helfe **dir**.* |
    | danken | to thank | *Wir danken **Ihnen**.* |
    | gefallen | to please (= to like) | *Das Kleid gefällt **mir**.* (I like the dress.) |
    | gehören | to belong to | *Das Auto gehört **meinem Bruder**.* |
    | schmecken | to taste (good) | *Schmeckt **dir** die Suppe?* |
    | passen | to fit / suit | *Die Hose passt **mir** nicht.* |
    | antworten | to answer | *Er antwortet **der Lehrerin**.* |
    | gratulieren | to congratulate | *Ich gratuliere **dir** zum Geburtstag!* |

    With *gefallen, gehören, schmecken, passen* the **thing** is the subject: in *Die Schuhe
    gefallen mir* the verb agrees with *die Schuhe* (plural).

    Also: *Wie geht es **dir**? — Mir geht es gut.* *Mir ist kalt.* (I'm cold.)
    """, [
    single("Kannst du ___ helfen? (me)", ["mich", "mir", "ich", "mein"], "mir", "*helfen* + dative: *mir*."),
    single("Die Schuhe ___ mir.", ["gefällt", "gefallen", "gefalle", "gefallt"], "gefallen", "The subject is *die Schuhe* (plural) → *gefallen*."),
    short("Das Fahrrad gehört ___ Schwester. (my)", ["meiner"], "*die Schwester*, dative → *meiner Schwester*."),
    single("\"I'm cold.\"", ["Ich bin kalt.", "Mir ist kalt.", "Mich ist kalt."], "Mir ist kalt.",
           "Feeling cold/warm: *Mir ist kalt.* (*Ich bin kalt* means your personality is cold!)"),
    multiple("Which verbs take a dative object? (Choose all that apply.)",
             ["helfen", "sehen", "danken", "kaufen", "gefallen"], ["helfen", "danken", "gefallen"],
             "*helfen, danken, gefallen* take the dative (*Ich helfe dir*); *sehen* and *kaufen* take an accusative object."),
    single("Ich danke ___ für die Einladung. (you, polite)", ["Sie", "Ihnen", "Ihr", "Ihrem"], "Ihnen", "*danken* + dative; polite *Sie* → *Ihnen*."),
])

DATIVE_PRONOUNS = grammar("dative-pronouns", "Pronouns in the dative: mir, dir, ihm …", "A2", """
    # Dative pronouns

    | nominative | accusative | dative |
    |---|---|---|
    | ich | mich | **mir** |
    | du | dich | **dir** |
    | er | ihn | **ihm** |
    | sie | sie | **ihr** |
    | es | es | **ihm** |
    | wir | uns | **uns** |
    | ihr | euch | **euch** |
    | sie / Sie | sie / Sie | **ihnen / Ihnen** |

    Order of two objects: if both are nouns, dative before accusative (*Ich gebe **dem Kind**
    **den Ball***). If the accusative is a **pronoun**, it comes first: *Ich gebe **ihn** **dem
    Kind**. Ich gebe **ihn ihm**.*
    """, [
    short("Ich gebe Maria das Buch. → Ich gebe ___ das Buch.", ["ihr"], "*Maria* (sie) → dative *ihr*."),
    short("Wie geht es ___? (you, du)", ["dir"], "*Wie geht es dir?*"),
    single("Ich zeige ___ die Fotos. (them)", ["sie", "ihnen", "ihr", "euch"], "ihnen", "*sie* (they) → dative *ihnen*."),
    single("Gibst du mir den Schlüssel? — Ja, ich gebe ___.", ["dir ihn", "ihn dir", "dich ihn", "ihm dir"], "ihn dir",
           "Two pronouns: accusative first → *ihn dir*."),
    single("Kannst du Peter helfen? — Ja, ich helfe ___.", ["ihn", "ihm", "er", "sein"], "ihm", "*helfen* + dative; *er* → *ihm*."),
])

DATIVE_PREPOSITIONS = grammar("dative-prepositions", "Prepositions with the dative: aus, bei, mit, nach, seit, von, zu", "A2", """
    # Prepositions that always take the dative

    **aus, bei, mit, nach, seit, von, zu** (and *gegenüber, ab*) — always dative.

    | | meaning | example |
    |---|---|---|
    | aus | out of, from (origin) | *Ich komme **aus der** Schweiz.* |
    | bei | at (someone's place / a company), near | *Ich wohne **bei meinen** Eltern. Sie arbeitet **bei** Siemens.* |
    | mit | with, by (transport) | *Ich fahre **mit dem** Bus.* |
    | nach | after; to (cities, countries without article, *nach Hause*) | *nach dem Essen; nach Berlin* |
    | seit | since, for (still going on) | *Ich lerne **seit einem** Jahr Deutsch.* |
    | von | from, of, by | *ein Geschenk **von meiner** Oma* |
    | zu | to (people, places, events); *zu Hause* = at home | *Ich gehe **zum** Arzt.* |

    Contractions: *zu dem → **zum**, zu der → **zur**, von dem → **vom**, bei dem → **beim***.

    *seit* + present tense: "I have been learning German for a year" = *Ich lerne **seit** einem
    Jahr Deutsch.*
    """, [
    single("Ich fahre ___ Zug.", ["mit dem", "mit den", "mit der", "mit das"], "mit dem", "*mit* + dative; *der Zug* → *dem Zug*."),
    short("Ich gehe ___ Ärztin. (zu + der)", ["zur"], "*zu der* → *zur*."),
    single("\"I have lived here for two years.\"", ["Ich wohne hier seit zwei Jahren.", "Ich habe hier für zwei Jahre gewohnt.", "Ich wohne hier für zwei Jahre."],
           "Ich wohne hier seit zwei Jahren.", "*seit* + present tense; *Jahre* → dative plural *Jahren*."),
    single("Wir fahren morgen ___ Hamburg.", ["zu", "nach", "bei", "in"], "nach", "Cities without article: *nach*."),
    multiple("Which prepositions always take the dative? (Choose all that apply.)",
             ["mit", "für", "bei", "ohne", "seit"], ["mit", "bei", "seit"],
             "*aus, bei, mit, nach, seit, von, zu* take the dative; *für* and *ohne* take the accusative."),
    short("Sie kommt gerade ___ Supermarkt. (von + dem)", ["vom"], "*von dem* → *vom*."),
])

ACCUSATIVE_PREPOSITIONS = grammar("accusative-prepositions", "Prepositions with the accusative: durch, für, gegen, ohne, um", "A2", """
    # Prepositions that always take the accusative

    **durch, für, gegen, ohne, um** (and *bis, entlang*) — always accusative.

    | | meaning | example |
    |---|---|---|
    | durch | through | *Wir gehen **durch den** Park.* |
    | für | for | *Das ist **für meinen** Vater.* |
    | gegen | against; around (time) | *Er ist **gegen den** Plan. Ich komme **gegen** acht.* |
    | ohne | without | *Kaffee **ohne** Zucker; **ohne dich*** |
    | um | around; at (clock time) | *Wir fahren **um den** See. **um** 8 Uhr* |

    Contractions: *durch das → durchs, für das → fürs, um das → ums* (spoken).

    Remember: only the masculine changes in the accusative: *für **den** Mann, für die Frau,
    für das Kind, für die Kinder*.
    """, [
    single("Das Geschenk ist für ___ Bruder.", ["mein", "meinen", "meinem", "meiner"], "meinen", "*für* + accusative: *meinen Bruder*."),
    short("Sie geht ohne ___ Mann ins Kino. (her)", ["ihren"], "*ohne* + accusative; *der Mann* → *ihren Mann*."),
    single("Wir laufen durch ___ Wald.", ["der", "dem", "den", "des"], "den", "*durch* + accusative: *den Wald*."),
    single("Which preposition takes the accusative?", ["mit", "für", "bei", "seit"], "für", "*für* is an accusative preposition; the others take the dative."),
    short("Ich mache das für ___. (you, du)", ["dich"], "*für dich*."),
])

TWO_WAY = grammar("two-way-prepositions", "Two-way prepositions: wo? (dative) or wohin? (accusative)", "A2", """
    # Two-way prepositions (Wechselpräpositionen)

    **an, auf, hinter, in, neben, über, unter, vor, zwischen** take

    - the **dative** for a **location** — question *wo?* (where?):
      *Das Buch liegt **auf dem** Tisch.*
    - the **accusative** for a **direction / movement to** — question *wohin?* (where to?):
      *Ich lege das Buch **auf den** Tisch.*

    Verb pairs help:

    | wohin? + accusative (put) | wo? + dative (be) |
    |---|---|
    | legen (lay) | liegen (lie) |
    | stellen (stand upright) | stehen (stand) |
    | setzen (sit down) | sitzen (sit) |
    | hängen (hang up) | hängen (hang) |
    | gehen / fahren **in** | sein **in** |

    Contractions: *in dem → **im**, in das → **ins**, an dem → **am**, an das → **ans***.

    *Ich gehe **ins** Kino.* (wohin?) — *Ich bin **im** Kino.* (wo?)
    """, [
    single("Die Katze schläft auf ___ Sofa.", ["das", "dem", "den"], "dem", "*schlafen* = location (wo?) → dative *dem Sofa*."),
    single("Ich stelle die Flasche in ___ Kühlschrank.", ["der", "dem", "den"], "den", "*stellen* = movement (wohin?) → accusative *den Kühlschrank*."),
    short("Wir gehen heute ___ Theater. (in + das)", ["ins"], "Direction → accusative *in das* → *ins*."),
    single("Das Bild hängt an ___ Wand.", ["die", "der", "den"], "der", "Location → dative; *die Wand* → *der Wand*."),
    single("Ich setze mich ___ Stuhl.", ["auf den", "auf dem", "auf der"], "auf den", "*sich setzen* = movement → accusative."),
    short("Der Schlüssel liegt ___ Tisch. (unter + dem)", ["unter dem", "unterm"], "Location → dative: *unter dem Tisch*."),
])

REFLEXIVE = grammar("reflexive-verbs", "Reflexive verbs: sich freuen, sich waschen", "A2", """
    # Reflexive verbs

    Reflexive verbs have a pronoun that refers back to the subject:

    | | accusative | dative |
    |---|---|---|
    | ich | mich | mir |
    | du | dich | dir |
    | er/sie/es | **sich** | **sich** |
    | wir | uns | uns |
    | ihr | euch | euch |
    | sie/Sie | **sich** | **sich** |

    - *Ich freue **mich**.* (I'm happy.) — *Setz **dich**!* (Sit down!) — *Wir treffen **uns** um acht.*
    - Common ones: *sich freuen (auf/über), sich interessieren für, sich ärgern, sich beeilen,
      sich erinnern an, sich fühlen, sich setzen, sich treffen, sich waschen, sich anziehen*.
    - If the sentence **already has an accusative object**, the reflexive pronoun is **dative**:
      *Ich wasche **mich**.* but *Ich wasche **mir** die Hände.* *Ich putze **mir** die Zähne.*
    - Position: right after the verb, or after the subject if it follows the verb:
      *Heute freue **ich mich**.*
    """, [
    short("Ich freue ___ auf den Urlaub.", ["mich"], "*ich* → *mich*."),
    short("Er interessiert ___ für Musik.", ["sich"], "3rd person → *sich*."),
    single("Ich putze ___ die Zähne.", ["mich", "mir", "sich", "mein"], "mir", "There is already an accusative object (*die Zähne*), so the reflexive is dative: *mir*."),
    single("Wir treffen ___ am Bahnhof.", ["sich", "uns", "unser", "euch"], "uns", "*wir* → *uns*."),
    single("Beeil ___! (du)", ["dich", "dir", "sich", "du"], "dich", "*sich beeilen*, du → *dich*: *Beeil dich!*"),
])

WEIL_DASS = grammar("subordinate-clauses-weil-dass", "Subordinate clauses: weil, dass, wenn, ob", "A2", """
    # Subordinate clauses: the verb goes to the end

    After **weil** (because), **dass** (that), **wenn** (if / when, whenever), **ob** (whether)
    and other subordinating conjunctions, the conjugated verb goes to the **end** of the
    clause. A comma always separates the clauses.

    - *Ich bleibe zu Hause, **weil** ich krank **bin**.*
    - *Ich glaube, **dass** er morgen **kommt**.*
    - *Ich weiß nicht, **ob** sie Zeit **hat**.*
    - *Wir gehen spazieren, **wenn** es nicht **regnet**.*

    With two verbs, the conjugated one is last: *…, weil ich arbeiten **muss**.* Separable verbs
    join up again: *…, weil ich früh **aufstehe**.*

    If the subordinate clause comes **first**, it counts as position 1, so the main clause
    starts with the verb: ***Wenn** es regnet, **bleiben** wir zu Hause.*
    """, [
    single("Ich komme nicht, weil ___.", ["ich bin krank", "ich krank bin", "bin ich krank"], "ich krank bin", "After *weil* the verb goes to the end."),
    single("Er sagt, dass er keine Zeit ___.", ["hat", "haben", "hast"], "hat", "*er hat* — at the end of the *dass*-clause."),
    single("Wenn ich Zeit habe, ___ ich dich.", ["besuche", "ich besuche"], "besuche",
           "The *wenn*-clause is position 1, so the verb follows directly: *Wenn ich Zeit habe, besuche ich dich.*"),
    single("Ich weiß nicht, ___ er kommt. (whether)", ["dass", "ob", "wenn", "weil"], "ob", "*whether / if* (yes-no) → *ob*."),
    single("Sie lernt Deutsch, weil sie in Berlin ___.", ["arbeiten will", "will arbeiten", "arbeiten wollt"], "arbeiten will",
           "The conjugated verb (*will*) is last."),
])

COORDINATING = grammar("coordinating-conjunctions", "und, aber, oder, denn, sondern", "A2", """
    # Conjunctions that do not change the word order

    **und** (and), **aber** (but), **oder** (or), **denn** (because), **sondern** (but rather) join
    two main clauses **without** changing the word order. They stand in "position 0":

    - *Ich bin müde, **aber** ich **gehe** noch nicht ins Bett.*
    - *Ich bleibe zu Hause, **denn** ich **bin** krank.* (= *weil ich krank bin*)

    **sondern** corrects a negative: *Er kommt **nicht** aus Österreich, **sondern** aus der
    Schweiz.* (English: not … but …). *aber* without correction: *Das Auto ist nicht neu, aber
    gut.*

    Comma: always before *aber, denn, sondern*; usually none before *und* and *oder*.
    """, [
    single("Ich lerne Deutsch, denn ___.", ["ich wohne in Wien", "ich in Wien wohne", "wohne ich in Wien"], "ich wohne in Wien",
           "*denn* does not change the word order."),
    single("Das ist kein Tee, ___ Kaffee.", ["aber", "sondern", "oder", "denn"], "sondern", "Correction after a negative → *sondern*."),
    single("Das Essen ist billig, ___ es schmeckt gut.", ["sondern", "aber", "oder", "weil"], "aber", "Contrast without correction → *aber*."),
    single("Which sentence is correct?", ["Ich habe Hunger, denn ich habe nichts gegessen.", "Ich habe Hunger, denn ich nichts gegessen habe.", "Ich habe Hunger, denn habe ich nichts gegessen."],
           "Ich habe Hunger, denn ich habe nichts gegessen.", "After *denn*: normal main-clause order."),
])

COMPARISON = grammar("comparative-and-superlative", "Comparing: schneller, am schnellsten", "A2", """
    # Comparative and superlative

    | | comparative (+er) | superlative (am …sten) |
    |---|---|---|
    | schnell | schnell**er** | am schnell**sten** |
    | billig | billig**er** | am billig**sten** |
    | alt | **ä**lter | am **ä**lte**sten** |
    | groß | gr**ö**ßer | am gr**ö**ß**ten** |
    | jung | j**ü**nger | am j**ü**ngsten |
    | gut | **besser** | am **besten** |
    | viel | **mehr** | am **meisten** |
    | gern | **lieber** | am **liebsten** |
    | hoch | **höher** | am **höchsten** |

    - Many short adjectives with *a, o, u* take an umlaut: *alt, arm, groß, jung, kalt, kurz, lang, warm*.
    - Adjectives ending in *-t, -d, -s, -ß, -z* add *-esten*: *am ältesten, am heißesten*.
    - Comparing: ***als*** = than: *Tom ist größer **als** Lisa.* ***so … wie*** = as … as: *Tom
      ist **so** groß **wie** Lisa.*
    """, [
    short("Der Zug ist ___ als der Bus. (schnell)", ["schneller"], "Comparative: *schneller*."),
    short("Mein Bruder ist ___ als ich. (alt)", ["älter", "aelter"], "*alt → älter* (umlaut)."),
    single("Sie spricht ___ Deutsch als ich.", ["gutter", "besser", "mehr gut", "am besten"], "besser", "*gut → besser → am besten*."),
    single("Berlin ist größer ___ München.", ["wie", "als", "dann", "so"], "als", "Comparative + *als*."),
    short("Im Juli ist es am ___. (heiß)", ["heißesten", "heissesten"], "Ends in ß → *am heißesten*."),
    single("Anna ist ___ groß wie Paul. (as tall as)", ["so", "als", "mehr", "wie"], "so", "Equality: *so … wie*."),
])

ADJ_DEFINITE = grammar("adjective-endings-definite", "Adjective endings after der, die, das", "A2", """
    # Adjective endings after the definite article

    After *der, die, das* (and *dieser, jeder, welcher, alle*) the adjective ending is **-e** or
    **-en**:

    | | masculine | feminine | neuter | plural |
    |---|---|---|---|---|
    | nominative | der alt**e** Mann | die alt**e** Frau | das alt**e** Haus | die alt**en** Häuser |
    | accusative | den alt**en** Mann | die alt**e** Frau | das alt**e** Haus | die alt**en** Häuser |
    | dative | dem alt**en** Mann | der alt**en** Frau | dem alt**en** Haus | den alt**en** Häusern |

    The short rule: **-e** in five places (the nominative singular of all three genders and the
    feminine and neuter accusative), **-en** everywhere else.

    An adjective after *sein* has **no ending**: *Der Mann ist alt.*
    """, [
    short("Der ___ Pullover ist teuer. (rot)", ["rote"], "Masculine nominative after *der* → *-e*."),
    short("Ich kaufe den ___ Pullover. (rot)", ["roten"], "Masculine accusative → *-en*."),
    single("Wir wohnen in dem ___ Haus.", ["große", "großen", "großes"], "großen", "Dative → *-en*."),
    single("Die ___ Kinder spielen.", ["kleine", "kleinen", "kleines"], "kleinen", "Plural → *-en*."),
    single("Das Auto ist ___.", ["neu", "neue", "neues", "neuen"], "neu", "After *sein* no ending."),
])

ADJ_INDEFINITE = grammar("adjective-endings-indefinite", "Adjective endings after ein, kein, mein", "A2", """
    # Adjective endings after ein, kein, mein …

    *ein* has no ending in three places (masculine nominative, neuter nominative and accusative),
    so the **adjective shows the gender** there: **-er** (masculine) and **-es** (neuter).

    | | masculine | feminine | neuter | plural (keine/meine) |
    |---|---|---|---|---|
    | nominative | ein alt**er** Mann | eine alt**e** Frau | ein alt**es** Haus | keine alt**en** Häuser |
    | accusative | einen alt**en** Mann | eine alt**e** Frau | ein alt**es** Haus | keine alt**en** Häuser |
    | dative | einem alt**en** Mann | einer alt**en** Frau | einem alt**en** Haus | keinen alt**en** Häusern |

    Everything else is like after *der*: *-e* or *-en*.

    *Das ist ein gut**er** Film. Ich habe ein neu**es** Handy. Sie trägt eine schön**e** Jacke.*
    """, [
    short("Das ist ein ___ Film. (gut)", ["guter"], "Masculine nominative after *ein* → *-er*."),
    short("Ich habe ein ___ Fahrrad. (neu)", ["neues"], "Neuter accusative after *ein* → *-es*."),
    single("Sie hat einen ___ Hund.", ["kleiner", "kleinen", "kleines", "kleine"], "kleinen", "Masculine accusative → *-en*."),
    single("Wir wohnen in einer ___ Wohnung.", ["schöne", "schönen", "schöner"], "schönen", "Dative → *-en*."),
    single("Das ist meine ___ Schwester.", ["jüngere", "jüngeren", "jüngerer"], "jüngere", "Feminine nominative → *-e*."),
])

DATES = grammar("ordinal-numbers-and-dates", "Ordinal numbers and dates", "A2", """
    # Ordinal numbers and dates

    Ordinals: 1.–19. add **-te**, from 20. add **-ste**. Irregular: *erste, dritte, siebte, achte*.

    | | |
    |---|---|
    | 1. | der erste |
    | 2. | der zweite |
    | 3. | der dritte |
    | 4. | der vierte |
    | 7. | der siebte |
    | 8. | der achte |
    | 20. | der zwanzigste |
    | 31. | der einunddreißigste |

    In writing, an ordinal is a number with a **full stop**: *der 3. Mai*.

    - *Heute ist **der** dritte Mai.* (nominative: *-e*)
    - *Ich habe **am** dritt**en** Mai Geburtstag.* (*am* + *-en*)
    - *Wann? — **Am** 1. Januar.* / *Vom 3. **bis zum** 10. Juni.*
    - Dates are day.month.year: *12.03.2025* = 12 March 2025.
    """, [
    short("Heute ist der ___ Oktober. (3.)", ["dritte"], "*der dritte* — irregular, nominative *-e*."),
    short("Ich habe am ___ Juli Geburtstag. (7.)", ["siebten"], "*am* + *-en*; 7. → *siebte* → *am siebten*."),
    single("*der zwanzigste* is:", ["2.", "12.", "20.", "200."], "20.", "From 20 on: *-ste*."),
    single("*05.04.* is:", ["5 April", "4 May"], "5 April", "German dates: day first."),
    single("Wann beginnt der Kurs? — ___", ["Am ersten März.", "Im ersten März.", "Am erste März.", "Um ersten März."],
           "Am ersten März.", "*am* + ordinal with *-en*."),
])

A2 = [PERFECT_HABEN, PERFECT_SEIN, PARTICIPLES_PREFIX, PRAETERITUM_SEIN, MODALS_PAST, DATIVE,
      DATIVE_VERBS, DATIVE_PRONOUNS, DATIVE_PREPOSITIONS, ACCUSATIVE_PREPOSITIONS, TWO_WAY,
      REFLEXIVE, WEIL_DASS, COORDINATING, COMPARISON, ADJ_DEFINITE, ADJ_INDEFINITE, DATES]
