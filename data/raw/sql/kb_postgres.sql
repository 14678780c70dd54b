--
-- PostgreSQL database dump
--

-- Dumped from database version 15.6 (Debian 15.6-1.pgdg120+2)
-- Dumped by pg_dump version 15.6 (Debian 15.6-1.pgdg120+2)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: articles; Type: TABLE; Schema: public; Owner: kb
--

CREATE TABLE public.articles (
    id integer NOT NULL,
    title text,
    body text
);


ALTER TABLE public.articles OWNER TO kb;

--
-- Name: articles_id_seq; Type: SEQUENCE; Schema: public; Owner: kb
--

CREATE SEQUENCE public.articles_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE public.articles_id_seq OWNER TO kb;

--
-- Name: articles_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: kb
--

ALTER SEQUENCE public.articles_id_seq OWNED BY public.articles.id;


--
-- Name: quick_tips; Type: TABLE; Schema: public; Owner: kb
--

CREATE TABLE public.quick_tips (
    id integer NOT NULL,
    tip text NOT NULL
);


ALTER TABLE public.quick_tips OWNER TO kb;

--
-- Name: articles id; Type: DEFAULT; Schema: public; Owner: kb
--

ALTER TABLE ONLY public.articles ALTER COLUMN id SET DEFAULT nextval('public.articles_id_seq'::regclass);


--
-- Data for Name: articles; Type: TABLE DATA; Schema: public; Owner: kb
--

COPY public.articles (id, title, body) FROM stdin;
1	Choosing flour for bread and cakes	Flour is sold by protein content, and protein decides how much gluten the dough can form. Strong bread flour has around 12 to 14 percent protein and gives chewy, well-risen loaves. Plain or all-purpose flour sits in the middle and suits most everyday baking.\nCake flour is lower still and makes tender, fine-crumbed sponges. If a recipe only says "flour", plain flour is the safe choice.
2	Storing herbs and spices	Ground spices lose their aroma within about six months, while whole spices keep for a year or more. Store them in airtight jars away from the heat of the hob and out of direct light. Buy small amounts, and grind whole spices as you need them for the best flavour. A quick sniff tells you more than the date on the label.
3	Knife safety in the kitchen	A sharp knife is safer than a blunt one, because it cuts where you aim instead of slipping. Curl the fingertips of your guiding hand under, so the blade rests against your knuckles. Put a damp cloth under the chopping board to stop it sliding. Never try to catch a falling knife; step back and let it drop.
4	Cooking dried beans	Soak dried beans overnight in plenty of cold water, then drain and rinse them. Cover with fresh water, boil hard for ten minutes and then simmer until tender, which takes from 45 minutes to two hours depending on the bean. Red kidney beans must have the hard boil, because undercooked ones contain a toxin. Add salt towards the end, or to the soaking water if you prefer.
5	Starting seeds indoors	Use fresh seed compost, which is fine and low in nutrients, and fill small pots or modules. Sow at the depth on the packet, water from below and cover with a clear lid until the seeds sprout. Move the seedlings to the brightest spot you have as soon as they appear, or they will stretch and flop. Pot them on when the first true leaves have opened.
6	Watering guide for containers	Containers dry out far faster than garden beds, especially small pots, terracotta and hanging baskets. In summer, check them every day by pushing a finger into the compost. Water until it runs out of the drainage holes, then stop.\nGrouping pots together and adding a layer of gravel or bark on top helps them stay moist for longer.
7	Identifying common garden pests	Aphids are small green or black insects that cluster on young shoots and suck sap. Slugs and snails leave ragged holes and silvery trails, mostly after rain. Vine weevil grubs are creamy, C-shaped larvae that eat roots in pots, and the first sign is often a plant that suddenly collapses. Caterpillars on cabbages can strip a plant in days, so check under the leaves often.
8	Pruning fruit trees in winter	Apple and pear trees are pruned in winter while they are dormant. First remove dead, diseased and damaged wood, then branches that cross or rub. Aim for an open, goblet-shaped centre that lets light and air reach the fruit. Do not remove more than about a quarter of the canopy in one year. Plums and cherries are different and should be pruned in summer to reduce the risk of silver leaf disease.
9	Bicycle pre-ride check	Before each ride, squeeze both brake levers to check they bite firmly and do not touch the handlebar. Press on each tyre to check the pressure, and look for cuts or embedded glass. Lift each wheel and spin it to make sure it runs straight and the quick release or axle is tight. Finally, check that the lights work and the chain looks clean and oiled.
10	Recommended torque values for common bicycle parts	Always follow the number printed on the part itself, but these values are typical for aluminium parts.\nPart\tTypical torque\nStem faceplate bolts\t5 Nm\nSeatpost clamp\t5-6 Nm\nPedals\t35 Nm\nDisc rotor bolts\t6 Nm\nUse a torque wrench for carbon parts, and carbon assembly paste where the maker recommends it.
11	Replacing a bicycle chain	Measure the old chain with a checker first; if it is worn past the limit, replace it. Count the links, or lay the new chain beside the old one, to get the same length. Break the chain with a chain tool or open the quick link, thread the new chain through the derailleurs, and join it. Check that the joint moves freely and shift through all the gears before riding.
12	Storing a bike for winter	Clean and dry the bike fully before storing it, and lubricate the chain and cables. Keep it indoors if possible, in a dry place away from heaters. Pump the tyres up to normal pressure and hang the bike or turn the cranks occasionally so the tyres do not develop flat spots. Remove the batteries from lights and computers.
13	Setting up a new home router	Connect the router to the modem or wall socket, then log in to its admin page using the details on its label. Change the admin password first, then set a new network name and a strong Wi-Fi password with WPA2 or WPA3 security. Install any firmware updates that are offered.\nFinally, turn off WPS and remote management unless you need them.
14	Troubleshooting slow internet	Start by restarting the router and the device that is slow. Run a speed test over a cable to see whether the problem is the line or the Wi-Fi. If the cabled test is slow too, check the provider's status page and call them. If only Wi-Fi is slow, move closer to the router, switch bands or change the channel.
15	Understanding IP addresses at home	Your provider gives your router one public IP address, which the internet sees. Inside your home, the router hands out private addresses, usually starting with 192.168 or 10, to each device. Network address translation lets all those devices share the single public address. Private addresses cannot be reached directly from the internet, which is a useful layer of protection.
16	Securing smart home devices	Smart plugs, cameras and speakers are small computers and need the same care as a laptop. Change default passwords, install updates, and turn off features you do not use. Putting smart devices on a separate guest or IoT network limits the damage if one is compromised. Buy from makers that promise security updates for several years.
17	Building a simple monthly budget	List your income after tax at the top of a page. Below it, list fixed costs such as rent, utilities, insurance and loan payments, then flexible costs such as food, transport and fun. Subtract the total from your income; what is left can go to savings or debt.\nReview the budget at the end of each month and adjust it to reality instead of giving up.
18	\N	Your payslip shows gross pay, which is what you earn before deductions, and net pay, which reaches your bank account. Between them come income tax, social security contributions, pension contributions and any other deductions. Check your tax code or tax class each time it changes, since a wrong one can mean paying too much or too little. Keep payslips for at least a year.
19	Avoiding common scams	Be wary of any message that creates urgency, asks for payment by bank transfer or gift card, or asks you to confirm passwords. Banks will never ask you to move money to a "safe account". If in doubt, hang up and call the organisation back on a number from their official website. Scammers often pose as delivery companies, tax offices or family members in trouble.
20	Saving for a specific goal	Give every savings goal a name, a target amount and a date. Divide the amount by the number of months left to get a monthly figure, and set up a standing order for that amount on payday. Keeping the money in a separate account makes it less tempting to spend. Seeing the balance grow is a great motivator.
21	Observing the Moon	The best time to view the Moon is not at full moon but during its phases, when shadows along the terminator show craters and mountains in sharp relief. Even binoculars reveal the dark lunar seas and the largest craters. With a small telescope, follow the terminator night by night and watch new features come into view. A lunar map or app helps you name what you see.
22	Planning a stargazing night	Check the weather forecast and the Moon's phase; a thin crescent or no moon gives the darkest skies. Find a spot away from street lights with a clear view to the south. Bring warm layers, a folding chair, a red torch and a star chart or app in night mode. Allow time for your eyes to adapt before hunting for faint objects.
23	Understanding star charts	A planisphere is a rotating star chart that shows the sky for any date and time. Line up the date on the outer ring with the time on the inner wheel, then hold it above your head with the direction you are facing at the bottom. The oval window shows the stars visible at that moment. It needs no batteries and works everywhere at your latitude.
24	Collimating a reflector telescope	Collimation means aligning the mirrors of a reflector so they share the same axis. A poorly collimated telescope gives soft, smeared images, especially at high magnification. Use a collimation cap or laser tool to adjust the secondary mirror first, then the primary, following the manual. Check it after transporting the telescope, since bumps can shift the mirrors.
25	Treating cuts and grazes	Wash your hands and put on gloves if you have them. Rinse the wound under clean running water and gently remove any dirt. Apply pressure with a clean pad to stop bleeding, then cover it with a sterile dressing. Seek medical help if the wound is deep, will not stop bleeding, or was caused by an animal bite or a dirty object.
26	Recognising a heart attack	Typical symptoms include chest pain or pressure that may spread to the arms, neck, jaw or back, together with shortness of breath, sweating or nausea. Some people, especially women and older adults, have milder or unusual symptoms. Call emergency services immediately. If the person is not allergic, the call handler may advise them to chew an aspirin while waiting.
27	Helping someone having a seizure	Stay calm and note the time the seizure started. Move hard or sharp objects away and cushion the person's head, but do not hold them down or put anything in their mouth. When the jerking stops, roll them into the recovery position and stay with them. Call an ambulance if the seizure lasts more than five minutes, repeats, or it is their first one.
28	Dealing with allergic reactions	Mild reactions cause itching, a rash or sneezing and often respond to an antihistamine. A severe reaction, called anaphylaxis, can cause swelling of the throat, breathing difficulty, a fast heartbeat and collapse. Use the person's adrenaline auto-injector if they have one, and call emergency services straight away. Lay them down with legs raised, or let them sit up if breathing is difficult.
29	Choosing screws for woodworking	Wood screws come in different lengths, gauges and head types. As a rule, a screw should pass through the first piece and go at least twice as far into the second. Countersunk heads sit flush with the surface, while pan heads sit on top. Stainless or coated screws are needed outdoors, and some hardwoods like oak stain black around plain steel screws.
30	Applying an oil finish	Sand the wood to at least 180 grit and remove all dust. Flood the surface with oil, wait about fifteen minutes, and then wipe away every bit of excess with a lint-free cloth. Let it dry for a day before the next coat, and apply three to five coats in total. Oily rags can catch fire on their own as they dry, so spread them flat outdoors or soak them in water before disposing of them.
31	Workshop dust control	Fine wood dust is a health hazard, so control it at the source. Connect a dust extractor or shop vacuum to sanders and saws where possible, and wear a well-fitting FFP2 or FFP3 mask when sanding. Sweeping stirs dust back into the air; vacuuming is better. An air filter running during and after work removes the finest particles.
32	Reading a cutting list	A cutting list gives each part of a project with its finished length, width and thickness, often with a quantity. Cut the longest and widest parts first so you can use offcuts for smaller pieces. Label each part as you cut it with a pencil mark or tape. Leave parts slightly long and trim them to exact size once the joints are fitted.
33	Writing readable functions	A function should do one thing and be named after it. Keep argument lists short; if you need many parameters, group them in an object. Return early for error cases instead of nesting the main logic in deep if blocks. Aim for a function that fits on one screen, so a reader can see it all at once.
34	Logging instead of printing	Print statements are handy while debugging but hard to manage in larger programs. The logging module lets you set levels like DEBUG, INFO and ERROR and choose where messages go, such as the console or a file. Set the level once at start-up and leave the log calls in place. Include context in messages, such as the file or record being processed.
35	Working with dates and time zones	Store times in UTC and convert to local time only when showing them to a person. Use a library that understands time zones and daylight saving changes, instead of adding or subtracting hours by hand. Be careful with dates around midnight, since the day can differ between time zones. Write tests for the day when clocks change.
36	Planning a rail trip in Europe	Long-distance trains connect most European capitals, often from city centre to city centre. Compare point-to-point tickets with a rail pass, which pays off mostly for long or flexible journeys. Some high-speed and night trains need seat reservations even with a pass. Allow generous connection times at large stations, and download each operator's app for live updates.
37	Staying healthy on long flights	Drink water regularly and go easy on alcohol and caffeine. Walk the aisle every hour or two and flex your ankles and calves while seated to help circulation. Wear loose, comfortable clothing and consider compression socks if you have risk factors for blood clots. Adjust your sleep to the destination's time zone as far as possible.
38	Bringing a pet abroad	Rules for travelling with pets vary by country and can take months to meet. Most require a microchip, a rabies vaccination given at least 21 days before travel, and an official health certificate. Some countries also require tapeworm treatment shortly before arrival. Check the official government rules for your destination early and book a vet appointment in good time.
39	Caring for an older dog	Senior dogs often need shorter, more frequent walks and a softer bed to ease stiff joints. Regular vet checks every six months help catch dental disease, kidney problems and lumps early. Keep their weight in check, since extra weight strains ageing joints. Gentle mental games, like sniffing out treats, keep them happy and alert.
40	Setting up a practice space at home	Choose a corner where you can leave your instrument out and ready, since setting up each time is a barrier to practising. Good light, a stable music stand and a comfortable chair of the right height matter more than you might expect. Keep a notebook, a pencil and a metronome within reach. Rugs, curtains and bookshelves soften echoes and keep neighbours happier.
41	Tuning a piano: what to expect	Pianos should be tuned once or twice a year, and more often after a move or big changes in humidity. A tuning takes about an hour and a half. If the piano has not been tuned for years, the tuner may need a pitch raise first, followed by a fine tuning. Keep the piano away from radiators, windows and outside walls to help it stay in tune.
42	Draft: choosing a tent (unfinished)	\N
\.


--
-- Data for Name: quick_tips; Type: TABLE DATA; Schema: public; Owner: kb
--

INSERT INTO public.quick_tips VALUES (1, 'Don''t overfill the kettle; boil only the water you need.');
INSERT INTO public.quick_tips VALUES (2, 'Check your tyre pressure weekly - it''s the cheapest speed upgrade there is.');
INSERT INTO public.quick_tips VALUES (3, 'Write tomorrow''s to-do list before you finish today''s work.');
INSERT INTO public.quick_tips VALUES (4, 'A plant''s yellow leaves usually mean it''s had too much water, not too little.');
INSERT INTO public.quick_tips VALUES (5, 'Label the freezer bags with what''s inside and the date: you won''t remember in March.');
INSERT INTO public.quick_tips VALUES (6, 'If a recipe says ''a knob of butter'', think of a piece about the size of a walnut.');


--
-- Name: articles_id_seq; Type: SEQUENCE SET; Schema: public; Owner: kb
--

SELECT pg_catalog.setval('public.articles_id_seq', 42, true);


--
-- Name: articles articles_pkey; Type: CONSTRAINT; Schema: public; Owner: kb
--

ALTER TABLE ONLY public.articles
    ADD CONSTRAINT articles_pkey PRIMARY KEY (id);


--
-- Name: quick_tips quick_tips_pkey; Type: CONSTRAINT; Schema: public; Owner: kb
--

ALTER TABLE ONLY public.quick_tips
    ADD CONSTRAINT quick_tips_pkey PRIMARY KEY (id);


--
-- PostgreSQL database dump complete
--

